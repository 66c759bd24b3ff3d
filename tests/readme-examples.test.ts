// Every README example runs as written. The rule:
// - Every fenced `ts`/`js` block of every README (the root's, packages/*, apps/*) is a complete ES module: it runs here
//   against the built packages, each block in its own scratch folder (its working directory, so relative paths like
//   `figure.svg` land there) with the repository's `fixtures/` linked in, one block at a time.
// - The network is off: `fetch` answers only the URLs a block's stand-in serves from local files (a published model
//   from the fixtures, a small file for the download cache); any other URL fails the block. The OpenRetina and
//   HuggingFace caches point into the scratch folder.
// - `bash`/`sh`, `python` (what OpenRetina does), `json`, `yaml` and `text` blocks are documentation (CLI invocations are covered by apps/cli's tests
//   on fixture data; signatures are listed as `text`). A README example that cannot run here (it needs a full public
//   dataset) is listed in NOT_RUN with the reason, and the list must name existing blocks.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { markdownBlocks, readmePaths, type ReadmeBlock } from './readme-blocks.js';

const root = join(dirname(new URL(import.meta.url).pathname), '..');
// Inside the repository, so the blocks' imports resolve to the workspace packages (the root's devDependencies).
const scratch = mkdtempSync(join(root, 'tests', '.readme-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const RUNNABLE = new Set(['ts', 'js', 'typescript', 'javascript', 'mjs']);
const DOCUMENTATION = new Set([
  'bash',
  'sh',
  'shell',
  'console',
  'json',
  'yaml',
  'yml',
  'text',
  'txt',
  'html',
  'css',
  'toml',
  'diff',
  'python',
  '',
]);

/** `readme#heading` of the blocks that do not run here, and why. */
const NOT_RUN: Record<string, string> = {
  'packages/onnx/README.md#In a browser, with onnxruntime-web':
    "browser-only (document, crossOriginIsolated, onnxruntime-web's WebAssembly runtime); apps/demo/test/routes-e2e.test.ts runs the same steps (the demo's src/ort-web.ts and src/route.ts) in headless Chromium",
};

const key = (b: ReadmeBlock) => `${b.readme}#${b.heading}`;

/** What `fetch` answers for one block: URL prefix → local file. */
type StandIn = Record<string, string>;

/** Files a block needs before it runs (in its folder), and the URLs it may fetch. */
async function prepare(block: ReadmeBlock, dir: string): Promise<StandIn> {
  const fixtures = join(root, 'fixtures');
  symlinkSync(fixtures, join(dir, 'fixtures'), 'dir');
  if (block.readme === 'packages/hub/README.md' && /published model/.test(block.heading)) {
    // the published name resolves through the OpenRetina cache: the fixture checkpoint stands in for the download
    const { publishedModelRepoPath } = await import('@openretina/hub');
    const target = join(dir, 'cache', ...publishedModelRepoPath('hoefling_2024_low_res').split('/'));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(fixtures, 'openretina-1.1.1', 'model.ckpt'), target);
    return { 'http://127.0.0.1/models/model.ckpt': join(fixtures, 'openretina-1.1.1', 'model.ckpt') };
  }
  if (block.readme === 'packages/hub/README.md' && /Höfling 2024 ensemble/.test(block.heading)) {
    const legacy = join(fixtures, 'hub', 'legacy', 'ensemble');
    const { LEGACY_ENSEMBLE_REMOTE_URL, LEGACY_ENSEMBLE_MODEL_PATH } = await import('@openretina/hub');
    return { [`${LEGACY_ENSEMBLE_REMOTE_URL}${LEGACY_ENSEMBLE_MODEL_PATH}/`]: `${legacy}/` };
  }
  if (block.readme === 'packages/data-io/README.md' && block.heading === 'Download cache') {
    await writeFile(join(dir, 'file.h5'), new Uint8Array(16).fill(7));
    return { 'https://example.org/data/file.h5': join(dir, 'file.h5') };
  }
  return {};
}

/** A `fetch` that serves the stand-in's files and refuses every other URL. */
function standInFetch(standIn: StandIn): typeof fetch {
  return (async (input: string | URL | Request) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const prefix = Object.keys(standIn).find((p) => (p.endsWith('/') ? url.startsWith(p) : url === p));
    if (prefix === undefined) throw new Error(`README examples run without the network; ${url} has no stand-in.`);
    const file = prefix.endsWith('/') ? join(standIn[prefix]!, decodeURIComponent(url.slice(prefix.length))) : standIn[prefix]!;
    if (!existsSync(file)) return new Response('not found', { status: 404 });
    const { readFile } = await import('node:fs/promises');
    const bytes = await readFile(file);
    return new Response(bytes, { status: 200, headers: { 'content-length': String(bytes.length) } });
  }) as typeof fetch;
}

/** Runs a README block as a module in `dir` and returns what it printed with console.log. */
async function run(block: ReadmeBlock, name: string): Promise<string[]> {
  const dir = join(scratch, name);
  mkdirSync(dir);
  const standIn = await prepare(block, dir);
  const file = join(dir, `example.${block.language === 'js' || block.language === 'mjs' ? 'mjs' : 'ts'}`);
  await writeFile(file, block.code);
  const printed: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')));
  vi.stubGlobal('fetch', standInFetch(standIn));
  vi.stubEnv('OPENRETINA_CACHE_DIRECTORY', join(dir, 'cache'));
  vi.stubEnv('HF_HUB_CACHE', join(dir, 'hf-cache'));
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    await import(/* @vite-ignore */ file);
  } finally {
    process.chdir(cwd);
    log.mockRestore();
    vi.unstubAllGlobals();
    vi.unstubAllEnvs();
  }
  return printed;
}

const blocks = readmePaths(root).flatMap((path) => markdownBlocks(path, root));
const runnable = blocks.filter((b) => RUNNABLE.has(b.language));
const label = (b: ReadmeBlock) => `${b.readme}:${b.line} (${b.heading})`;

describe('README examples', () => {
  it('every fenced block is runnable code or documentation, and NOT_RUN names existing blocks', () => {
    expect(blocks.filter((b) => !RUNNABLE.has(b.language) && !DOCUMENTATION.has(b.language)).map(label)).toEqual([]);
    expect(runnable.length).toBeGreaterThan(20);
    for (const listed of Object.keys(NOT_RUN))
      expect(
        runnable.some((b) => key(b) === listed),
        listed,
      ).toBe(true);
  });

  for (const [i, block] of runnable.entries()) {
    if (NOT_RUN[key(block)]) {
      it.todo(`${label(block)}: not run (${NOT_RUN[key(block)]})`);
      continue;
    }
    it(`${label(block)} runs`, async () => {
      const printed = await run(block, `block-${i}`);
      // the "write your own" examples print their training loss and the checkpoint round trip
      if (/Write your own/.test(block.heading)) {
        const loss = printed.find((l) => l.startsWith('train_total_loss '));
        expect(Number(loss?.split(' ')[1])).toBeGreaterThan(0);
        expect(printed).toContain('reloaded checkpoint gives the same responses: true');
      }
    });
  }
});
