import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { capture } from './helpers.js';

describe('openretina CLI', () => {
  it('lists its commands and rejects unknown ones with exit code 2', async () => {
    const io = capture();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(io.lines.join('\n')).toContain('demo');
    const bad = capture();
    expect(await runCli(['frobnicate'], bad)).toBe(2);
    expect(bad.errors[0]).toContain('Unknown command "frobnicate"');
  });

  it('runs the demo: loads the bundled OpenRetina weights and writes predicted responses', async () => {
    const out = mkdtempSync(join(tmpdir(), 'openretina-demo-'));
    const io = capture();
    expect(await runCli(['demo', '--frames', '40', '--output', out, '--backend', 'cpu'], io)).toBe(0);
    expect(io.lines.join('\n')).toContain('loaded OpenRetina weights');
    const result = JSON.parse(readFileSync(join(out, 'responses.json'), 'utf8')) as { outputFrames: number; meanPerNeuron: number[] };
    expect(result.outputFrames).toBe(10);
    expect(result.meanPerNeuron).toHaveLength(35);
    expect(result.meanPerNeuron.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
  });

  it('rejects a bad option value with a usage error', async () => {
    const io = capture();
    expect(await runCli(['demo', '--frames', '10'], io)).toBe(2);
    expect(io.errors[0]).toContain('--frames');
  });
});
