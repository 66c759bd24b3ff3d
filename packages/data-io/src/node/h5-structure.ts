import { type H5Dataset, type H5Group, openHdf5 } from './hdf5.js';
import { type H5TypeMetadata, h5pyDtypeName, nestByShape } from './h5-types.js';

/**
 * The structure of an HDF5 file (what OpenRetina's `print_h5_structure` prints): per group a record of its members,
 * each dataset as `"h5.Dataset(shape=(3, 4)), float64"` (h5py's wording), subgroups as nested records, and the
 * group's attributes (if any) under `__attributes__`.
 */
export interface H5Structure {
  [name: string]: string | H5Structure | Record<string, unknown>;
}

const pythonTuple = (shape: readonly number[]): string => (shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`);

function attributeValue(value: unknown, shape: readonly number[] | null): unknown {
  const plain = (v: unknown) => (typeof v === 'bigint' ? Number(v) : v);
  if (ArrayBuffer.isView(value) || Array.isArray(value)) return nestByShape(Array.from(value as ArrayLike<unknown>, plain), shape ?? []);
  return plain(value);
}

function groupStructure(group: H5Group): H5Structure {
  const out: H5Structure = {};
  for (const key of [...group.keys()].sort()) {
    const obj = group.get(key) as { type?: string } | null;
    if (obj?.type === 'Group') out[key] = groupStructure(obj as H5Group);
    else if (obj?.type === 'Dataset') {
      const ds = obj as H5Dataset;
      out[key] = `h5.Dataset(shape=${pythonTuple(ds.shape ?? [])}), ${h5pyDtypeName(ds.metadata as H5TypeMetadata)}`;
    }
  }
  const names = Object.keys(group.attrs).sort();
  if (names.length > 0) {
    out.__attributes__ = Object.fromEntries(names.map((n) => [n, attributeValue(group.attrs[n]!.value, group.attrs[n]!.shape)]));
  }
  return out;
}

/** Reads the structure of an HDF5 file (OpenRetina's `print_h5_structure`, which prints it; see {@link formatH5Structure}). */
export async function h5Structure(path: string): Promise<H5Structure> {
  const f = await openHdf5(path);
  try {
    return groupStructure(f as unknown as H5Group);
  } finally {
    f.close();
  }
}

/** An indented text rendering of {@link h5Structure}'s result: a group's attributes (`@name = value`) first, then its members, one per line (groups end in `/`). */
export function formatH5Structure(structure: H5Structure, indent = ''): string {
  const lines: string[] = [];
  const attributes = structure.__attributes__ as Record<string, unknown> | undefined;
  for (const [a, v] of Object.entries(attributes ?? {})) lines.push(`${indent}@${a} = ${JSON.stringify(v)}`);
  for (const [name, value] of Object.entries(structure)) {
    if (name === '__attributes__') continue;
    if (typeof value === 'string') lines.push(`${indent}${name}: ${value}`);
    else {
      lines.push(`${indent}${name}/`);
      const inner = formatH5Structure(value as H5Structure, `${indent}  `);
      if (inner) lines.push(inner);
    }
  }
  return lines.join('\n');
}
