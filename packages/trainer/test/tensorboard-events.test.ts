import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '@openretina/test-utils/fixtures';
import { describe, expect, it } from 'vitest';
import { TensorBoardLogger } from '../src/node.js';

const here = join(dirname(fileURLToPath(import.meta.url)), 'tensorboard');
// TensorBoard's own event.proto, summary.proto and their imports, unmodified (see the README there)
const protos = join(REPO_ROOT, 'fixtures', 'tensorboard', 'proto');
const protoFiles = readdirSync(join(protos, 'tensorboard', 'compat', 'proto')).map((f) =>
  join(protos, 'tensorboard', 'compat', 'proto', f),
);
// The independent reader needs Debian's python3-protobuf and protobuf-compiler (the README's test command installs them).
// Debian's interpreter first: a python3 earlier on PATH (pyenv, venv) may lack Debian's packages.
const python = ['/usr/bin/python3', 'python3'].find(
  (py) => spawnSync(py, ['-c', 'import google.protobuf'], { encoding: 'utf8' }).status === 0,
);
const hasReader = python !== undefined && spawnSync('protoc', ['--version'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!hasReader)('TensorBoard event files, read by protoc + python3-protobuf', () => {
  it('are TFRecords of Event protos: the file version first, then one summary of scalars per epoch at its step', () => {
    const dir = mkdtempSync(join(tmpdir(), 'openretina-tb-'));
    const logger = new TensorBoardLogger(join(dir, 'run'), new Date(1_700_000_000_000));
    logger.log({ epoch: 0, step: 3, lr: 0.01, metrics: { val_evaluation_loss: 0.25, train_loss: 1.5, bad: Number.NaN } });
    logger.log({ epoch: 1, step: 6, lr: 0.005, metrics: { val_evaluation_loss: 0.125, train_loss: 1.25 } });
    const generated = mkdtempSync(join(tmpdir(), 'openretina-tb-pb2-'));
    execFileSync('protoc', [`--proto_path=${protos}`, `--python_out=${generated}`, ...protoFiles]);
    const [file] = readdirSync(join(dir, 'run'));
    expect(file).toMatch(/^events\.out\.tfevents\.1700000000\./);
    const events = JSON.parse(
      execFileSync(python!, [join(here, 'read_events.py'), generated, join(dir, 'run', file!)], { encoding: 'utf8' }),
    ) as {
      wall_time: number;
      step: number;
      what: string;
      file_version?: string;
      scalars?: Record<string, number>;
      kinds?: string[];
    }[];
    expect(events).toHaveLength(3);
    expect(events[0]).toEqual({ wall_time: 1_700_000_000, step: 0, what: 'file_version', file_version: 'brain.Event:2' });
    expect(events.slice(1).map((e) => [e.what, e.step])).toEqual([
      ['summary', 3],
      ['summary', 6],
    ]);
    // float32 scalars (exact for these values); NaN metrics are left out
    expect(events[1]!.scalars).toEqual({ epoch: 0, lr: Math.fround(0.01), val_evaluation_loss: 0.25, train_loss: 1.5 });
    expect(events[2]!.scalars).toEqual({ epoch: 1, lr: Math.fround(0.005), val_evaluation_loss: 0.125, train_loss: 1.25 });
    // TensorBoard's scalar dashboard reads simple_value (the legacy scalar summary)
    expect(events.slice(1).map((e) => e.kinds)).toEqual([['simple_value'], ['simple_value']]);
    expect(events[1]!.wall_time).toBeGreaterThan(1_700_000_000);
  });
});
