// Bundles an entry for the browser with esbuild (everything inlined, minified ESM) and reports every Node built-in
// that the bundle would need. A built-in that a package's `browser` field maps to `false` is not needed: bundlers
// substitute an empty module. A computed `import(specifier)` is never followed, so optional peers loaded that way
// stay out.
import { builtinModules } from 'node:module';
import { relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';

export interface BrowserBundle {
  /** Minified size in bytes. */
  readonly bytes: number;
  readonly gzipBytes: number;
  /** `"<built-in>" from <importing file>` for every Node built-in the bundle reaches. */
  readonly nodeBuiltins: readonly string[];
}

const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const FOLLOW = Symbol('resolve without this plugin');

function nodeBuiltinProbe(found: string[], root: string): Plugin {
  return {
    name: 'node-builtin-probe',
    setup(b) {
      b.onResolve({ filter: /^(node:)?[a-z_]+(\/[a-z_]+)?$/ }, async (args) => {
        if (args.pluginData === FOLLOW || !builtins.has(args.path)) return undefined;
        const resolved = await b.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: FOLLOW,
        });
        if (resolved.errors.length === 0) return undefined; // mapped away by a `browser` field
        found.push(`"${args.path}" from ${relative(root, args.importer).replace(/^.*node_modules\//, '')}`);
        return { path: args.path, external: true }; // keep going, to list every one
      });
    },
  };
}

/** Bundles `contents` (ESM source) as if it were a file in `resolveDir`. */
export async function bundleForBrowser(contents: string, resolveDir: string): Promise<BrowserBundle> {
  const found: string[] = [];
  const result = await build({
    stdin: { contents, resolveDir, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
    plugins: [nodeBuiltinProbe(found, resolveDir)],
  });
  const code = result.outputFiles[0]!.contents;
  return { bytes: code.length, gzipBytes: gzipSync(code).length, nodeBuiltins: [...new Set(found)].sort() };
}
