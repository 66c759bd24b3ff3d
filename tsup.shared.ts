import { defineConfig, type Options } from 'tsup';

/** Build settings every package shares: ESM + CJS + .d.ts from the given entry points. */
export function packageConfig(entry: Record<string, string> = { index: 'src/index.ts' }, extra: Options = {}) {
  return defineConfig(packageOptions(entry, extra));
}

/** {@link packageConfig}'s options, for packages that build several configurations (an array of them). */
export function packageOptions(entry: Record<string, string> = { index: 'src/index.ts' }, extra: Options = {}): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node22',
    treeshake: true,
    // Keep `import()` native in the CJS build too (Node supports it), so ESM-only optional dependencies
    // (and ones with top-level await) load lazily from either build.
    esbuildOptions(options) {
      options.supported = { ...options.supported, 'dynamic-import': true };
    },
    ...extra,
  };
}
