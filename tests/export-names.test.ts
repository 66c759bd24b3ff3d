// One meaning per exported name: across every package and app, a name (value or type) is exported by one package
// only. Read from the built dist (the .d.ts of each `exports` entry lists values and types alike); a name that two
// packages export passes only when it is the very same runtime object, i.e. a plain re-export.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(new URL(import.meta.url).pathname), '..');

interface Entry {
  readonly pkg: string;
  readonly subpath: string;
  readonly types: string;
  readonly code: string;
}

type Conditions = { import?: { types?: string; default?: string } };

/** The ESM entries (types + code) of every workspace package with an `exports` map. */
function entries(): Entry[] {
  const out: Entry[] = [];
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, group)).sort()) {
      const dir = join(root, group, name);
      if (!existsSync(join(dir, 'package.json'))) continue;
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; exports?: Record<string, unknown> };
      for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
        const esm = (target as Conditions).import;
        if (!esm?.types || !esm.default) continue;
        out.push({ pkg: manifest.name, subpath, types: join(dir, esm.types), code: join(dir, esm.default) });
      }
    }
  }
  return out;
}

/** The names a bundled declaration file exports: `export { a, b as c, type D }` lists and `export declare`/`interface`/`type` declarations. */
function declaredExports(dts: string): Set<string> {
  const names = new Set<string>();
  for (const m of dts.matchAll(/^export\s+(?:type\s+)?\{([^}]*)\}/gm)) {
    for (const item of m[1]!.split(',')) {
      const name = item
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop()!
        .trim();
      if (name) names.add(name);
    }
  }
  for (const m of dts.matchAll(
    /^export\s+(?:declare\s+)?(?:abstract\s+)?(?:const|let|function|class|interface|type|enum|namespace)\s+([A-Za-z_$][\w$]*)/gm,
  )) {
    names.add(m[1]!);
  }
  return names;
}

describe('exported names', () => {
  it('parses the forms of a bundled .d.ts', () => {
    const names = declaredExports(
      'export { a, b as c, type D };\nexport declare function e(): void;\nexport interface F {}\nexport type G = 1;\n',
    );
    expect([...names].sort()).toEqual(['D', 'F', 'G', 'a', 'c', 'e']);
  });

  it('every name is exported by one package (or is the same object re-exported)', async () => {
    const list = entries();
    expect(list.length).toBeGreaterThan(10);
    const owners = new Map<string, Map<string, Entry>>(); // name -> package -> first entry exporting it
    for (const entry of list) {
      expect(existsSync(entry.types), `${entry.pkg}${entry.subpath.slice(1)}: build first (${entry.types})`).toBe(true);
      const names = declaredExports(readFileSync(entry.types, 'utf8'));
      expect(names.size, `${entry.pkg}${entry.subpath.slice(1)} exports nothing`).toBeGreaterThan(0);
      for (const name of names) {
        const byPackage = owners.get(name) ?? new Map<string, Entry>();
        if (!byPackage.has(entry.pkg)) byPackage.set(entry.pkg, entry);
        owners.set(name, byPackage);
      }
    }
    const modules = new Map<string, Record<string, unknown>>();
    const load = async (e: Entry) => {
      if (!modules.has(e.code))
        modules.set(e.code, (await import(/* @vite-ignore */ pathToFileURL(e.code).href)) as Record<string, unknown>);
      return modules.get(e.code)!;
    };
    const clashes: string[] = [];
    for (const [name, byPackage] of owners) {
      if (byPackage.size < 2) continue;
      const values = await Promise.all([...byPackage.values()].map(async (e) => (await load(e))[name]));
      const sameObject = values[0] !== undefined && values.every((v) => v === values[0]);
      if (!sameObject) clashes.push(`${name}: ${[...byPackage.keys()].join(', ')}`);
    }
    expect(clashes).toEqual([]);
  });
});
