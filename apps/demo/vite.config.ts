import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

const require = createRequire(import.meta.url);
const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
const wasmFiles = readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'));
// onnxruntime-web: the ESM builds that load their WebAssembly runtime from `env.wasm.wasmPaths` (the page sets ort/)
// — `onnxruntime-web` (WebAssembly + WebGPU through JSEP) and `onnxruntime-web/wasm` (WebAssembly only, half the
// size) — and the runtime each uses (SIMD + threads): its module, which is also the threads' worker script, and its
// .wasm.
const ortDir = dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm'));
const ortEntries = [
  { find: /^onnxruntime-web$/, replacement: join(ortDir, 'ort.min.mjs') },
  { find: /^onnxruntime-web\/wasm$/, replacement: join(ortDir, 'ort.wasm.min.mjs') },
];
const ortFiles = ['jsep.mjs', 'jsep.wasm', 'mjs', 'wasm'].map((ext) => `ort-wasm-simd-threaded.${ext}`);

/**
 * Cross-origin isolation (COOP + COEP), which SharedArrayBuffer and so ONNX Runtime's WebAssembly threads need.
 * Everything the page loads is same-origin; a `?model=` URL on another origin must allow CORS (fetch needs it anyway).
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const MIME: Record<string, string> = { '.wasm': 'application/wasm', '.mjs': 'text/javascript' };

/**
 * Serves (dev) and copies (build) onnxruntime-web's runtime files to `ort/` next to index.html, where the page's
 * `env.wasm.wasmPaths` (relative to the page) finds them.
 */
function ortWasm(): Plugin {
  return {
    name: 'openretina-ort-wasm',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = req.url?.split('?')[0]?.split('/').pop();
        if (name && req.url?.includes('/ort/') && ortFiles.includes(name)) {
          res.setHeader('Content-Type', MIME[name.slice(name.lastIndexOf('.'))]!);
          for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
          res.end(readFileSync(join(ortDir, name)));
          return;
        }
        next();
      });
    },
    generateBundle() {
      for (const f of ortFiles) this.emitFile({ type: 'asset', fileName: `ort/${f}`, source: readFileSync(join(ortDir, f)) });
    },
  };
}

/**
 * Serves (dev) and copies (build) the TF.js wasm binaries to `wasm/` next to index.html, where the page's
 * `setWasmPaths('wasm/')` (relative to the page) finds them.
 */
function tfjsWasm(): Plugin {
  return {
    name: 'openretina-tfjs-wasm',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = req.url?.split('?')[0]?.split('/').pop();
        if (name && req.url?.includes('/wasm/') && wasmFiles.includes(name)) {
          res.setHeader('Content-Type', 'application/wasm');
          res.end(readFileSync(join(wasmDir, name)));
          return;
        }
        next();
      });
    },
    generateBundle() {
      for (const f of wasmFiles) this.emitFile({ type: 'asset', fileName: `wasm/${f}`, source: readFileSync(join(wasmDir, f)) });
    },
  };
}

export default defineConfig({
  // Relative asset paths: the built site works from any folder of any static server.
  base: './',
  plugins: [tfjsWasm(), ortWasm()],
  resolve: {
    // the builds of onnxruntime-web without their runtime module inlined (those locate it through import.meta.url,
    // which bundling moves)
    alias: ortEntries,
  },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
  },
});
