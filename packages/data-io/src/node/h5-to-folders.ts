import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UnsupportedError } from '@openretina/contracts';
import { serializeNpy } from '@openretina/formats';
import { writeFileAtomic } from '@openretina/formats/node';
import { type H5Dataset, type H5Group, openHdf5 } from './hdf5.js';
import { type H5TypeMetadata, nestByShape, npyBody } from './h5-types.js';
import { type PythonJson, pythonJsonDumps } from './python-repr.js';

/** An attribute value in Python's JSON terms (ints stay ints, floats stay floats, arrays become nested lists). */
function attributeJson(value: unknown, meta: H5TypeMetadata, shape: readonly number[] | null): PythonJson {
  const one = (v: unknown): PythonJson => {
    if (typeof v === 'string') return v;
    if (typeof v === 'bigint') return { int: v };
    if (typeof v === 'boolean') return v;
    if (typeof v === 'number') return meta.type === 1 ? { float: v } : { int: v };
    return String(v);
  };
  if (ArrayBuffer.isView(value) || Array.isArray(value)) {
    const flat = Array.from(value as ArrayLike<unknown>, one);
    return nestByShape(flat, shape ?? [flat.length]) as PythonJson;
  }
  return one(value);
}

function attributesJson(group: H5Group): string | undefined {
  const names = Object.keys(group.attrs).sort();
  if (names.length === 0) return undefined;
  const entries: [string, PythonJson][] = names.map((name) => {
    const attr = group.attrs[name]!;
    return [name, attributeJson(attr.value, attr.metadata as H5TypeMetadata, attr.shape)];
  });
  return pythonJsonDumps({ dict: entries });
}

/**
 * Copies an HDF5 file into folders (OpenRetina's `h5_to_folders`): each group becomes a folder under `outputDir`,
 * each dataset `<name>.npy` (its element type kept; strings as `|S<n>` bytes, where OpenRetina writes a pickled object
 * array for variable-length ones), and a group's attributes `__attributes__.json` (written as Python's `json.dump`
 * writes them). Returns the files written. Files are written atomically; an element type `.npy` cannot hold (compound,
 * references) is an {@link UnsupportedError} naming the dataset.
 */
export async function h5ToFolders(path: string, outputDir: string): Promise<string[]> {
  const f = await openHdf5(path);
  const written: string[] = [];
  const visit = async (group: H5Group, dir: string, where: string): Promise<void> => {
    await mkdir(dir, { recursive: true });
    const attrs = attributesJson(group);
    if (attrs !== undefined) {
      const file = join(dir, '__attributes__.json');
      await writeFileAtomic(file, attrs);
      written.push(file);
    }
    for (const key of [...group.keys()].sort()) {
      const obj = group.get(key) as { type?: string } | null;
      if (obj?.type === 'Group') await visit(obj as H5Group, join(dir, key), `${where}/${key}`);
      else if (obj?.type === 'Dataset') {
        const ds = obj as H5Dataset;
        const body = npyBody(ds.value, ds.metadata as H5TypeMetadata);
        if (!body)
          throw new UnsupportedError(
            `${path}: dataset ${where}/${key} has an element type .npy cannot hold (${JSON.stringify(ds.dtype)}).`,
          );
        const file = join(dir, `${key}.npy`);
        await writeFileAtomic(file, serializeNpy(body.data, ds.shape ?? [], body.descr));
        written.push(file);
      }
    }
  };
  try {
    await visit(f as unknown as H5Group, outputDir, '');
  } finally {
    f.close();
  }
  return written;
}
