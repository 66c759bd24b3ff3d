import { defineConfig } from 'vitest/config';

/** Packages whose whole suite runs a second time on the wasm backend with our corrected kernels. */
const onWasmToo = ['layers', 'core', 'readout', 'insilico', 'trainer', 'hub', 'onnx', 'wasm-predictor'];

// One run over every package and app (each is a vitest project with its own defaults).
export default defineConfig({
  test: {
    projects: [
      'packages/*',
      'apps/*',
      'tests',
      ...onWasmToo.map((name) => ({
        extends: `./packages/${name}/vitest.config.ts`,
        root: `./packages/${name}`,
        test: { name: `${name} (wasm)`, env: { OPENRETINA_TEST_BACKEND: 'wasm' } },
      })),
    ],
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
