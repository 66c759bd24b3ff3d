// The ONNX engine the commands create: its ONNX Runtime sessions go without a memory pattern (each run after a
// session's first would take one more block of the planned peak on top of the arena: fresh pages, peak RSS), and their
// worker threads stop spinning when a run ends (else a core spins ~27 ms after every run, during the host work).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { serializeNpy } from '@openretina/formats';
import { loadOnnxRuntimeNode } from '@openretina/onnx/node';
import { OPENRETINA_FIXTURES, ref } from '@openretina/test-utils/fixtures';
import { runCli } from '../src/index.js';
import { capture } from './helpers.js';

describe("the commands' ONNX engine", () => {
  it('creates its ONNX Runtime sessions without a memory pattern, and with spinning stopped after each run', async () => {
    const ort = await loadOnnxRuntimeNode();
    const create = vi.spyOn(ort.InferenceSession, 'create');
    try {
      const root = mkdtempSync(join(tmpdir(), 'openretina-engine-choice-'));
      const x = ref('input/x');
      const input = join(root, 'x.npy');
      writeFileSync(input, serializeNpy(x.data as Float32Array, x.shape));
      const io = capture();
      const args = ['predict', '--checkpoint', join(OPENRETINA_FIXTURES, 'model.ckpt'), '--input', input, '--session', 'session_2'];
      expect(await runCli([...args, '--output', join(root, 'y.npy'), '--engine', 'onnx'], io), io.errors.join('\n')).toBe(0);
      expect(io.lines).toContain('engine: onnx (requested)');
      type Options = { enableMemPattern?: boolean; extra?: { session?: Record<string, string> } } | undefined;
      const options = create.mock.calls.map(([, o]) => o as Options);
      expect(options.length).toBeGreaterThan(0);
      expect(options.every((o) => o?.enableMemPattern === false)).toBe(true);
      expect(options.every((o) => o?.extra?.session?.force_spinning_stop === '1')).toBe(true);
    } finally {
      create.mockRestore();
    }
  }, 60_000);
});
