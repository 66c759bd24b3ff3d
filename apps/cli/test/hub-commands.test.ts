import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNpy, serializeNpy } from '@openretina/formats';
import { OPENRETINA_FIXTURES, ref, relativeError } from '@openretina/test-utils/fixtures';
import { runCli } from '../src/index.js';
import { capture } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'openretina-hub-cli-'));
const input = join(dir, 'x.npy');
const x = ref('input/x');
writeFileSync(input, serializeNpy(x.data as Float32Array, x.shape));
const readOut = (p: string) => parseNpy(new Uint8Array(readFileSync(p)));

describe('openretina predict / export / download', () => {
  it('predict with an OpenRetina .ckpt: one session and all sessions', async () => {
    const io = capture();
    const out = join(dir, 'y2.npy');
    const ckpt = join(OPENRETINA_FIXTURES, 'model.ckpt');
    expect(
      await runCli(['predict', '--checkpoint', ckpt, '--input', input, '--session', 'session_2', '--output', out, '--backend', 'cpu'], io),
      io.errors.join('\n'),
    ).toBe(0);
    const y = readOut(out);
    expect(y.shape).toEqual([2, 20, 35]);
    expect(relativeError(y.data as Float32Array, ref('eval/out/session_2').data as Float32Array)).toBeLessThan(1e-5);
    const all = join(dir, 'yall.npy');
    expect(await runCli(['predict', '--checkpoint', ckpt, '--input', input, '--output', all, '--backend', 'cpu'], capture())).toBe(0);
    expect(relativeError(readOut(all).data as Float32Array, ref('eval/out/all_sessions_concat').data as Float32Array)).toBeLessThan(1e-5);
  });

  it('export to ONNX, then predict with the .onnx; the PyTorch-exported .onnx works too', async () => {
    const onnx = join(dir, 'model.onnx');
    const io = capture();
    expect(
      await runCli(
        ['export', '--checkpoint', join(OPENRETINA_FIXTURES, 'model_plain.ckpt'), '--session', 'session_2', '--output', onnx],
        io,
      ),
      io.errors.join('\n'),
    ).toBe(0);
    expect(io.lines[0]).toContain('frames cut: 30');
    for (const model of [onnx, join(OPENRETINA_FIXTURES, 'model_session_2.onnx')]) {
      const out = join(dir, 'y-onnx.npy');
      const io2 = capture();
      expect(
        await runCli(
          ['predict', '--checkpoint', model, '--input', input, '--session', 'session_2', '--output', out, '--backend', 'cpu'],
          io2,
        ),
        io2.errors.join('\n'),
      ).toBe(0);
      expect(relativeError(readOut(out).data as Float32Array, ref('eval/out/session_2').data as Float32Array), model).toBeLessThan(1e-5);
    }
  });

  it('download finds a model in the HuggingFace cache layout; unknown names are usage errors', async () => {
    const hf = join(dir, 'hf');
    const snap = join(hf, 'datasets--open-retina--open-retina', 'snapshots', 'abc', 'model_checkpoints', '2026-03-09');
    mkdirSync(snap, { recursive: true });
    copyFileSync(join(OPENRETINA_FIXTURES, 'model.ckpt'), join(snap, 'karamanlis_2024_mouse.ckpt'));
    const previous = process.env.HF_HUB_CACHE;
    process.env.HF_HUB_CACHE = hf;
    try {
      const io = capture();
      expect(await runCli(['download', 'karamanlis_2024_mouse'], io), io.errors.join('\n')).toBe(0);
      expect(io.lines[0]).toBe(join(snap, 'karamanlis_2024_mouse.ckpt'));
    } finally {
      if (previous === undefined) delete process.env.HF_HUB_CACHE;
      else process.env.HF_HUB_CACHE = previous;
    }
    const bad = capture();
    expect(await runCli(['download', 'nope'], bad)).toBe(2);
    expect(bad.errors[0]).toContain('hoefling_2024_low_res');
    const list = capture();
    expect(await runCli(['download', '--list'], list)).toBe(0);
    expect(list.lines).toHaveLength(9);
  });

  it('a corrupt checkpoint is a clear error (exit 1)', async () => {
    const bad = join(dir, 'bad.ckpt');
    writeFileSync(bad, readFileSync(join(OPENRETINA_FIXTURES, 'model.ckpt')).subarray(0, 5000));
    const io = capture();
    expect(await runCli(['predict', '--checkpoint', bad, '--input', input, '--output', join(dir, 'z.npy'), '--backend', 'cpu'], io)).toBe(
      1,
    );
    expect(io.errors[0]).toMatch(/OPENRETINA_FILE_FORMAT.*corrupt or truncated/);
  });
});
