import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNpy, serializeNpy, toFloat32 } from '@openretina/formats';
import { meiCommand } from '../src/mei-command.js';
import { visualizeCommand } from '../src/visualize-command.js';
import { OPENRETINA_FIXTURES, ref, relativeError } from '@openretina/test-utils/fixtures';
import { readGifInfo } from '@openretina/test-utils/gif';
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
  it("reproduces OpenRetina's MEI from --init with the visualize settings, and writes npy, SVG, PNG and GIF", async () => {
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
      ],
      io,
    );
    expect(io.errors).toEqual([]);
    expect(code).toBe(0);
    const out = parseNpy(new Uint8Array(readFileSync(join(dir, 'mei.npy'))));
    expect(out.shape).toEqual([1, 2, 50, 18, 16]);
    expect(relativeError(toFloat32(out.data), ref('mei/stimulus_final').data as Float32Array)).toBeLessThan(1e-4);
    expect(readFileSync(join(dir, 'mei.svg'), 'utf8')).toContain('session_2 neuron 7');
    expect(pngSize(new Uint8Array(readFileSync(join(dir, 'mei.png'))))).toEqual([960, 600]);
    expect(gifInfo(new Uint8Array(readFileSync(join(dir, 'mei.gif'))))).toEqual({ width: 16 * 8, height: 18 * 8, frames: 50 });
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

  it('rejects bad arguments with clear errors', async () => {
    const io = capture();
    expect(await meiCommand.run(['--neuron', '1'], io)).toBe(2);
    await expect(
      meiCommand.run(
        ['--checkpoint', stateDict, '--session', 'session_1', '--neuron', '99', '--steps', '0', '--output', join(tmpdir(), 'x.npy')],
        capture(),
      ),
    ).rejects.toThrow(/out of range/);
  });
});

describe('openretina visualize', () => {
  it('writes MEIs for inner channels and output neurons into a folder', async () => {
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
      ],
      io,
    );
    expect(code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['layer0', 'layer1', 'output_neurons']);
    expect(readdirSync(join(dir, 'layer1')).sort()).toEqual(['0.gif', '0.npy', '0.png', '0.svg']);
    expect(
      readdirSync(join(dir, 'output_neurons', 'session_1'))
        .filter((f) => f.endsWith('.gif'))
        .sort(),
    ).toEqual(['0.gif', '1.gif']);
    expect(gifInfo(new Uint8Array(readFileSync(join(dir, 'layer0', '0.gif')))).frames).toBe(40);
  });
});
