import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNpy, serializeNpy, toFloat32 } from '@openretina/formats';
import { runCli } from '../src/index.js';
import { meiCommand } from '../src/mei-command.js';
import { visualizeCommand } from '../src/visualize-command.js';
import { OPENRETINA_FIXTURES, ref, relativeError } from '@openretina/test-utils/fixtures';
import { readGifInfo } from '@openretina/test-utils/gif';
import { findFfmpeg } from '@openretina/plot/node';
import { capture } from './helpers.js';

/** PNG width and height from the IHDR chunk. */
function pngSize(bytes: Uint8Array): [number, number] {
  expect(Array.from(bytes.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  return [dv.getUint32(16), dv.getUint32(20)];
}

/** GIF logical screen size and number of image frames (a GIF89a file, as our encoder writes). */
function gifInfo(bytes: Uint8Array): { width: number; height: number; frames: number } {
  expect(String.fromCharCode(...bytes.subarray(0, 6))).toBe('GIF89a');
  return readGifInfo(bytes);
}

const stateDict = join(OPENRETINA_FIXTURES, 'state_dict.safetensors');

describe('openretina mei', () => {
  it("reproduces OpenRetina's MEI from --init with --preset openretina, and writes npy, SVG, PNG (with its text), labelled GIF, objective curve and record", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mei-'));
    const init = ref('mei/stimulus_init');
    writeFileSync(join(dir, 'init.npy'), serializeNpy(init.data as Float32Array, init.shape));
    const io = capture();
    const code = await meiCommand.run(
      [
        '--checkpoint',
        stateDict,
        '--session',
        'session_2',
        '--neuron',
        '7',
        '--init',
        join(dir, 'init.npy'),
        '--output',
        join(dir, 'mei.npy'),
        '--preset',
        'openretina',
      ],
      io,
    );
    // OpenRetina's 10 steps end at the cap: the user is told
    expect(io.errors).toEqual([expect.stringMatching(/^warning: session_2 neuron 7: stopped at the cap of 10 steps/)]);
    expect(code).toBe(0);
    const out = parseNpy(new Uint8Array(readFileSync(join(dir, 'mei.npy'))));
    expect(out.shape).toEqual([1, 2, 50, 18, 16]);
    expect(relativeError(toFloat32(out.data), ref('mei/stimulus_final').data as Float32Array)).toBeLessThan(1e-4);
    const svg = readFileSync(join(dir, 'mei.svg'), 'utf8');
    for (const words of ['session_2 · neuron 7', 'NOT converged', 'Time [s]', '50 µm', 'Weight (max |w| = 1)'])
      expect(svg).toContain(words);
    expect(pngSize(new Uint8Array(readFileSync(join(dir, 'mei.png'))))).toEqual([960, 640]);
    // frames of 16·15 px wide (at least 240 px for the label strip) under a 44 px strip with the title and frame index
    expect(gifInfo(new Uint8Array(readFileSync(join(dir, 'mei.gif'))))).toEqual({ width: 16 * 15, height: 18 * 15 + 44, frames: 50 });
    const record = JSON.parse(readFileSync(join(dir, 'mei.json'), 'utf8')) as {
      preset: string;
      iterations: number;
      converged: boolean;
      objectives: number[];
    };
    expect(record).toMatchObject({ preset: 'openretina', iterations: 10, converged: false });
    expect(record.objectives).toHaveLength(10);
    expect(readFileSync(join(dir, 'mei_objective.svg'), 'utf8')).toMatch(/<path [^>]*data-points="10"/);
  });

  it('loads an OpenRetina .ckpt through @openretina/hub and starts from a seeded, post-processed random stimulus', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mei-'));
    const io = capture();
    const args = [
      '--checkpoint',
      join(OPENRETINA_FIXTURES, 'model.ckpt'),
      '--session',
      'session_1',
      '--neuron',
      '3',
      '--frames',
      '40',
      '--steps',
      '2',
      '--seed',
      '5',
    ];
    expect(await meiCommand.run([...args, '--output', join(dir, 'a.npy')], io)).toBe(0);
    expect(await meiCommand.run([...args, '--output', join(dir, 'b.npy'), '--steps', '0', '--no-visuals'], capture())).toBe(0);
    const a = parseNpy(new Uint8Array(readFileSync(join(dir, 'a.npy'))));
    const b = parseNpy(new Uint8Array(readFileSync(join(dir, 'b.npy'))));
    expect(a.shape).toEqual([1, 2, 40, 18, 16]);
    // zero steps: the post-processed init (renormalised to 30, then clipped to the channel ranges)
    const init = toFloat32(b.data);
    expect(Math.hypot(...init)).toBeLessThanOrEqual(30.001);
    expect(Math.hypot(...init)).toBeGreaterThan(29);
    expect(Math.min(...init)).toBeGreaterThanOrEqual(-0.9131);
    expect(gifInfo(new Uint8Array(readFileSync(join(dir, 'a.gif')))).frames).toBe(40);
    expect(existsSync(join(dir, 'b.gif'))).toBe(false);
    expect(io.lines.some((l) => l.startsWith('step 2/2'))).toBe(true);
  });

  it('the default preset runs until the objective settles, and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mei-'));
    const io = capture();
    const args = [
      '--checkpoint',
      stateDict,
      '--session',
      'session_2',
      '--neuron',
      '7',
      '--seed',
      '1',
      '--output',
      join(dir, 'c.npy'),
      '--no-visuals',
    ];
    expect(await meiCommand.run(args, io)).toBe(0);
    const record = JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8')) as {
      preset: string;
      iterations: number;
      converged: boolean;
      objectives: number[];
    };
    expect(record.preset).toBe('default');
    expect(record.converged).toBe(true);
    expect(record.iterations).toBeGreaterThanOrEqual(20);
    expect(record.iterations).toBeLessThan(300);
    expect(io.lines.some((l) => /converged \(model gradient/.test(l))).toBe(true);
    expect(io.errors).toEqual([]);
  });

  it('rejects bad arguments with clear errors', async () => {
    const io = capture();
    // a usage error: the command throws it, `openretina` prints it as `error [USAGE]:` and exits with 2
    await expect(meiCommand.run(['--neuron', '1'], capture())).rejects.toThrow(/--checkpoint, --neuron and --output are required/);
    expect(await runCli(['mei', '--neuron', '1'], io)).toBe(2);
    expect(io.errors[0]).toMatch(/^error \[USAGE\]: --checkpoint, --neuron and --output are required/);
    await expect(
      meiCommand.run(
        ['--checkpoint', stateDict, '--session', 'session_1', '--neuron', '99', '--steps', '0', '--output', join(tmpdir(), 'x.npy')],
        capture(),
      ),
    ).rejects.toThrow(/out of range/);
    await expect(
      meiCommand.run(['--checkpoint', stateDict, '--neuron', '1', '--preset', 'fast', '--output', join(tmpdir(), 'x.npy')], capture()),
    ).rejects.toThrow(/--preset must be default or openretina, got "fast"/);
  });
});

describe('openretina visualize', () => {
  it('writes a gallery: weights, tuning, ROI animation, MEIs of inner channels and neurons; MP4s with ffmpeg (deprecated --save-folder warns)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vis-'));
    const io = capture();
    const code = await visualizeCommand.run(
      [
        '--checkpoint',
        stateDict,
        '--save-folder',
        dir,
        '--frames',
        '40',
        '--steps',
        '1',
        '--session',
        'session_1',
        '--max-channels',
        '1',
        '--max-neurons',
        '2',
        '--animation',
        'mp4',
      ],
      io,
    );
    expect(code).toBe(0);
    expect(io.errors[0]).toBe('warning: --save-folder is deprecated, use --output');
    const anim = findFfmpeg() ? 'mp4' : 'gif'; // MP4 needs ffmpeg on PATH (CI installs it), GIF otherwise
    // one step cannot converge: every MEI says so, and the summary counts them
    expect(io.errors.filter((e) => /stopped at the cap of 1 steps/.test(e))).toHaveLength(4);
    expect(readdirSync(dir).sort()).toEqual(['direction_tuning', 'index.html', 'layer0', 'layer1', 'output_neurons', 'roi', 'weights']);
    expect(readdirSync(join(dir, 'layer1')).sort()).toEqual([`0.${anim}`, '0.json', '0.npy', '0.png', '0.svg', '0_objective.svg'].sort());
    expect(readdirSync(join(dir, 'weights')).sort()).toEqual([
      'features.layer0.conv.png',
      'features.layer0.conv.svg',
      'features.layer1.conv.png',
      'features.layer1.conv.svg',
      'readout_session_1.png',
      'readout_session_1.svg',
    ]);
    expect(readdirSync(join(dir, 'direction_tuning')).sort()).toEqual(['session_1.png', 'session_1.svg']);
    expect(statSync(join(dir, 'roi', `session_1.${anim}`)).size).toBeGreaterThan(1000);
    expect(
      readdirSync(join(dir, 'output_neurons', 'session_1'))
        .filter((f) => f.endsWith(`.${anim}`))
        .sort(),
    ).toEqual([`0.${anim}`, `1.${anim}`]);
    expect(readFileSync(join(dir, 'output_neurons', 'session_1', '1.svg'), 'utf8')).toContain('session_1 · neuron 1');
    const index = readFileSync(join(dir, 'index.html'), 'utf8');
    expect(index).toContain('4 MEIs: 0 converged, 4 stopped at the step cap; 4 with a warning.');
    expect(index.match(/<figure class="mei unconverged warned" data-converged="false">/g)).toHaveLength(4);
    for (const link of [
      'output_neurons/session_1/1.png',
      'layer1/0_objective.svg',
      'weights/features.layer0.conv.png',
      `roi/session_1.${anim}`,
    ])
      expect(index).toContain(`"${link}"`);
  });
});

describe('openretina visualize: --init, --lr and --max-channels 0', () => {
  it("starts every MEI from --init with mei's checks, takes --lr, and says that inner-channel MEIs are off", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vis-init-'));
    const init = join(dir, 'init.npy');
    writeFileSync(init, serializeNpy(new Float32Array(2 * 40 * 18 * 16).fill(0.05), [1, 2, 40, 18, 16]));
    const out = join(dir, 'gallery');
    const base = ['--checkpoint', stateDict, '--output', out, '--session', 'session_1', '--max-channels', '0', '--max-neurons', '1'];
    const io = capture();
    const code = await runCli(
      ['visualize', ...base, '--init', init, '--lr', '7', '--steps', '1', '--animation', 'none', '--backend', 'cpu'],
      io,
    );
    expect(code, io.errors.join('\n')).toBe(0);
    expect(io.lines).toContain('inner-channel MEIs are off (--max-channels 0); weight plots of every layer are written');
    expect(io.lines.some((l) => l.startsWith('Generating MEIs for the layers'))).toBe(false);
    expect(readdirSync(out).sort()).toEqual(['direction_tuning', 'index.html', 'output_neurons', 'weights']);
    const record = JSON.parse(readFileSync(join(out, 'output_neurons', 'session_1', '0.json'), 'utf8'));
    expect(record.settings.lr).toBe(7);
    expect(record.settings.max_steps).toBe(1);
    // --seed and --init exclude each other; an --init that does not fit the model is refused as in mei
    const both = capture();
    expect(await runCli(['visualize', ...base, '--init', init, '--seed', '1'], both)).toBe(2);
    expect(both.errors[0]).toBe('error [USAGE]: Give either --seed or --init, not both.');
    const short = join(dir, 'short.npy');
    writeFileSync(short, serializeNpy(new Float32Array(2 * 10 * 18 * 16), [1, 2, 10, 18, 16]));
    const tooShort = capture();
    expect(await runCli(['visualize', ...base, '--init', short, '--backend', 'cpu'], tooShort)).toBe(1);
    expect(tooShort.errors[0]).toMatch(/^error \[OPENRETINA_CONFIG\]: The stimulus needs at least 31 frames .* got 10/);
    const badLr = capture();
    expect(await runCli(['visualize', ...base, '--lr', 'fast'], badLr)).toBe(2);
    expect(badLr.errors[0]).toBe('error [USAGE]: --lr must be a finite number, got "fast".');
  }, 120_000);
});
