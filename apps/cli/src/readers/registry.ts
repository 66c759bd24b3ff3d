import { ConfigError } from '@openretina/contracts';
import { goldin2022Reader } from './goldin-2022.js';
import { hdf5Reader } from './hdf5.js';
import { hoefling2024Reader } from './hoefling-2024.js';
import { karamanlis2024Reader } from './karamanlis-2024.js';
import { maheswaranathan2023Reader } from './maheswaranathan-2023.js';
import type { DataReader } from './reader.js';
import { sridhar2025Reader } from './sridhar-2025.js';

/** The data readers by `data_io.stimuli._target_` (OpenRetina's loading function) and by our short names. */
const readers = new Map<string, DataReader>();

/** Registers a reader under its targets (a third party may add one for its own `_target_`). */
export function registerReader(reader: DataReader): void {
  for (const t of reader.targets) readers.set(t, reader);
}

for (const r of [hdf5Reader, hoefling2024Reader, karamanlis2024Reader, maheswaranathan2023Reader, goldin2022Reader, sridhar2025Reader])
  registerReader(r);

/** The reader a `data_io` section asks for through `stimuli._target_`. */
export function readerFor(section: unknown): DataReader {
  const stimuli = section && typeof section === 'object' ? (section as { stimuli?: unknown }).stimuli : undefined;
  const target = stimuli && typeof stimuli === 'object' ? (stimuli as { _target_?: unknown })._target_ : undefined;
  const reader = typeof target === 'string' ? readers.get(target) : undefined;
  if (!reader) {
    const known = [...new Set([...readers.values()].map((r) => r.targets[0]!))].sort();
    throw new ConfigError(
      `data_io.stimuli._target_: ${target === undefined ? 'missing' : `unknown data reader ${JSON.stringify(target)}`} (accepted: ${known.join(', ')}).`,
    );
  }
  return reader;
}
