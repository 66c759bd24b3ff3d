import { defineConfig, type Options } from 'tsup';

/** Build settings every package shares: ESM + CJS + .d.ts from the given entry points. */
export function packageConfig(entry: Record<string, string> = { index: 'src/index.ts' }, extra: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    treeshake: true,
    ...extra,
  });
}
