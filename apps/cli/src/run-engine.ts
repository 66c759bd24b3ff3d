// The compute engine and TF.js backend a training run used, kept in its folder so that `train --resume` continues on
// the same ones (float32 sums in another engine's order would make the resumed epochs differ in the last bits, and
// then more with every step).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '@openretina/contracts';
import { writeFileAtomicSync } from '@openretina/formats/node';

/** The record's file name in the run folder. */
export const RUN_ENGINE_FILE = 'run-engine.json';

/** What a run records: the engine (`onnx`, `tfjs`) and the backend (`cpu`, `wasm`, ...) it trained on. */
export interface RunEngine {
  engine: string;
  backend: string;
}

export function writeRunEngine(dir: string, record: RunEngine): void {
  writeFileAtomicSync(join(dir, RUN_ENGINE_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

/** The run's record, or undefined for runs written before it existed. */
export function readRunEngine(dir: string): RunEngine | undefined {
  const file = join(dir, RUN_ENGINE_FILE);
  if (!existsSync(file)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DataError(`${file} is not valid JSON (${(e as Error).message}).`);
  }
  const r = value as Partial<RunEngine> | null;
  if (!r || typeof r.engine !== 'string' || typeof r.backend !== 'string')
    throw new DataError(`${file} must hold {"engine": string, "backend": string}, got ${JSON.stringify(value)}.`);
  return { engine: r.engine, backend: r.backend };
}
