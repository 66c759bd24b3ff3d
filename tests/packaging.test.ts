// Packs every publishable package with `pnpm pack`, installs the tarballs into a scratch project (third-party
// dependencies linked from this workspace, so no network), then requires (CJS) and imports (ESM) each package.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, existsSync, writeFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(new URL(import.meta.url).pathname), '..');
const packageDirs = [...readdirSync(join(root, 'packages')).map((d) => join(root, 'packages', d)), join(root, 'apps', 'cli')].filter((d) =>
  existsSync(join(d, 'package.json')),
);

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  private?: boolean;
}

let scratch: string;
const names: string[] = [];

function linkDependency(dep: string, fromDir: string): void {
  const target = join(scratch, 'node_modules', dep);
  if (existsSync(target)) return;
  // pnpm links every direct dependency into the package's own node_modules.
  const source = realpathSync(join(fromDir, 'node_modules', dep));
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(source, target, 'dir');
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'openretina-pack-'));
  const tarballs = join(scratch, 'tarballs');
  mkdirSync(tarballs);
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'commonjs' }));
  for (const dir of packageDirs) {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
    if (manifest.private) continue;
    const before = new Set(readdirSync(tarballs));
    execFileSync('pnpm', ['pack', '--pack-destination', tarballs], { cwd: dir, stdio: 'pipe' });
    const tarball = readdirSync(tarballs).find((f) => !before.has(f))!;
    const dest = join(scratch, 'node_modules', manifest.name);
    mkdirSync(dest, { recursive: true });
    execFileSync('tar', ['-xzf', join(tarballs, tarball), '-C', dest, '--strip-components=1']);
    names.push(manifest.name);
    const optional = new Set(Object.keys(manifest.peerDependenciesMeta ?? {}));
    const thirdParty = [
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}).filter((d) => !optional.has(d)),
    ];
    for (const dep of thirdParty) if (!dep.startsWith('@openretina/')) linkDependency(dep, dir);
  }
}, 300_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('packed tarballs', () => {
  it('contain dist/ and a README, and no sources or tests', () => {
    for (const name of names) {
      const dir = join(scratch, 'node_modules', name);
      expect(existsSync(join(dir, 'dist', 'index.js')), name).toBe(true);
      expect(existsSync(join(dir, 'dist', 'index.cjs')), name).toBe(true);
      expect(existsSync(join(dir, 'dist', 'index.d.ts')), name).toBe(true);
      expect(existsSync(join(dir, 'README.md')), name).toBe(true);
      expect(existsSync(join(dir, 'src')), name).toBe(false);
      expect(existsSync(join(dir, 'test')), name).toBe(false);
    }
    expect(names).toContain('@openretina/contracts');
    expect(names.length).toBeGreaterThanOrEqual(11);
  });

  it('load with require() (CJS) from a scratch project', () => {
    for (const name of names) {
      const out = execFileSync('node', ['-e', `const m = require('${name}'); console.log(Object.keys(m).length)`], {
        cwd: scratch,
        encoding: 'utf8',
      });
      expect(Number(out.trim().split('\n').pop()), name).toBeGreaterThan(0);
    }
  });

  it('load with import (ESM) from a scratch project', () => {
    for (const name of names) {
      const out = execFileSync(
        'node',
        ['--input-type=module', '-e', `const m = await import('${name}'); console.log(Object.keys(m).length)`],
        {
          cwd: scratch,
          encoding: 'utf8',
        },
      );
      expect(Number(out.trim().split('\n').pop()), name).toBeGreaterThan(0);
    }
  });
});
