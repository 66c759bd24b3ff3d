// The browser-bundle check itself: it must name a Node built-in that is reached, and only those.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleForBrowser } from './browser-bundle.js';

const dir = mkdtempSync(join(tmpdir(), 'openretina-bundle-probe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(path: string, contents: string): void {
  mkdirSync(join(dir, path, '..'), { recursive: true });
  writeFileSync(join(dir, path), contents);
}

describe('bundleForBrowser', () => {
  it('reports Node built-ins reached statically or by a literal dynamic import', async () => {
    file('static.js', `import { readFileSync } from 'node:fs'; export const read = readFileSync;`);
    file('dynamic.js', `export const load = () => import('path');`);
    const bundle = await bundleForBrowser(`export * from './static.js'; export * from './dynamic.js';`, dir);
    expect(bundle.nodeBuiltins).toEqual(['"node:fs" from static.js', '"path" from dynamic.js']);
  });

  it('ignores computed dynamic imports and built-ins a browser field maps away', async () => {
    file('node_modules/mapped/package.json', JSON.stringify({ name: 'mapped', main: 'index.js', browser: { fs: false } }));
    file('node_modules/mapped/index.js', `import fs from 'fs'; export const hasFs = fs != null;`);
    file('computed.js', `const name = 'onnxruntime-node'; export const load = () => import(/* @vite-ignore */ name);`);
    const bundle = await bundleForBrowser(`export * from 'mapped'; export * from './computed.js';`, dir);
    expect(bundle.nodeBuiltins).toEqual([]);
    expect(bundle.bytes).toBeGreaterThan(0);
  });
});
