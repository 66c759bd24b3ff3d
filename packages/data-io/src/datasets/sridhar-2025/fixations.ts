import { DataError } from '@openretina/contracts';

/** One fixation line: which frame, the crop centre and the flip flag. */
export interface SridharFixation {
  imgIndex: number;
  centerX: number;
  centerY: number;
  flip: number;
}

/**
 * Parses fixation lines `img_index ? ? center_x center_y … flip` (OpenRetina's `process_fixations`): the flag is the
 * first character of the last space-separated token; `flipImgs` inverts it; `selectFlip` keeps only one flag value.
 */
export function parseSridharFixations(
  text: string | readonly string[],
  options: { flipImgs?: boolean; selectFlip?: number } = {},
): SridharFixation[] {
  const lines =
    typeof text === 'string'
      ? text
          .split('\n')
          .filter((l) => l.trim().length > 0)
          .map((l) => `${l}\n`)
      : text;
  const out = lines.map((line, i) => {
    const tok = line.split(' ');
    const last = tok[tok.length - 1]!;
    const vals = [tok[0], tok[3], tok[4]].map((t) => Math.trunc(Number.parseFloat(t ?? '')));
    if (tok.length < 6 || vals.some((v) => Number.isNaN(v)))
      throw new DataError(`Fixation line ${i + 1} is malformed: ${JSON.stringify(line)}.`);
    const flag = Number.parseInt(last[0]!, 10);
    return { imgIndex: vals[0]!, centerX: vals[1]!, centerY: vals[2]!, flip: options.flipImgs ? Number(last[0] === '0') : flag };
  });
  return options.selectFlip === undefined ? out : out.filter((f) => f.flip === options.selectFlip);
}
