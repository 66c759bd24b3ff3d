import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

const require = createRequire(import.meta.url);
const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
const wasmFiles = readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'));
/**
 * Cross-origin isolation (COOP + COEP), which SharedArrayBuffer and so ONNX Runtime's WebAssembly threads need.
 * Everything the page loads is same-origin; a `?model=` URL on another origin must allow CORS (fetch needs it anyway).
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

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
  // onnxruntime-web needs nothing here: its ESM builds locate their .wasm with `new URL(…, import.meta.url)`, which
  // Vite emits as an asset, and start their threads' workers from their own chunk.
  plugins: [tfjsWasm()],
  // (the dev server's dependency pre-bundling would move onnxruntime-web away from its .wasm files)
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
  },
});
