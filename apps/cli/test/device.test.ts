// --device cpu|cuda|webgpu: the ONNX engine's execution provider, checked before any model graph is built.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serializeNpy } from '@openretina/formats';
import { OPENRETINA_FIXTURES, ref } from '@openretina/test-utils/fixtures';
import { runCli } from '../src/index.js';
import { capture } from './helpers.js';

describe('openretina predict --device', () => {
  it('cpu runs the ONNX engine as before; an unknown device and a device with --engine tfjs are clear errors', async () => {
    const root = mkdtempSync(join(tmpdir(), 'openretina-device-cli-'));
    const x = ref('input/x');
    const input = join(root, 'x.npy');
    writeFileSync(input, serializeNpy(x.data as Float32Array, x.shape));
    const args = ['predict', '--checkpoint', join(OPENRETINA_FIXTURES, 'model.ckpt'), '--input', input, '--session', 'session_2'];
    const ok = capture();
    expect(await runCli([...args, '--output', join(root, 'y.npy'), '--engine', 'onnx', '--device', 'cpu'], ok), ok.errors.join('\n')).toBe(
      0,
    );
    expect(ok.lines).toContain('engine: onnx (requested)');
    const bad = capture();
    expect(await runCli([...args, '--output', join(root, 'z.npy'), '--device', 'gpu'], bad)).toBe(2); // a usage error
    expect(bad.errors[0]).toBe('error [USAGE]: --device must be cpu, cuda or webgpu, got "gpu".');
    const tfjs = capture();
    expect(await runCli([...args, '--output', join(root, 'w.npy'), '--engine', 'tfjs', '--device', 'cuda'], tfjs)).toBe(1);
    expect(tfjs.errors.join('\n')).toMatch(/--device cuda runs the ONNX engine; --engine tfjs runs on the TF\.js backend/);
  }, 60_000);
});
