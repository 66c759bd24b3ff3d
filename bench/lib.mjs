// Shared pieces of `pnpm bench`: the model under test and timing helpers. Packages are imported from their built
// dist/ (run `pnpm build` first).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (pkg, entry = 'index.js') => join(ROOT, 'packages', pkg, 'dist', entry);

export async function loadPackages() {
  const [backend, models, hub, onnx, onnxInternal, trainer, insilico] = await Promise.all([
    import(dist('backend')),
    import(dist('models')),
    import(dist('hub', 'node.js')),
    import(dist('onnx', 'node.js')),
    import(dist('onnx', 'internal.js')), // @openretina/onnx/internal: the engine's graph builders, for the ONNX profile

    import(dist('trainer')),
    import(dist('insilico')),
  ]);
  const tf = await import(join(ROOT, 'packages', 'models', 'node_modules', '@tensorflow', 'tfjs-core', 'dist', 'tf-core.node.js')).then(
    (m) => m.default ?? m,
  );
  return { tf, backend, models, hub, onnx, onnxInternal, trainer, insilico };
}

export const SESSION = 'session_1';
export const NEURONS = 35;
export const FRAMES = 50;

/** hoefling_2024 low-res core-readout (2→16→16, kt [21, 11], ks [11, 5], Gaussian mask readout), one session of 35 neurons. */
export function buildModel(models, frames = FRAMES) {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'fixtures', 'openretina-1.1.1', 'manifest.json'), 'utf8'));
  const cfg = structuredClone(manifest.config.model_cfg_resolved);
  cfg.n_neurons_dict = { [SESSION]: NEURONS };
  cfg.in_shape = [2, frames, 18, 16];
  delete cfg.readout.in_shape;
  return models.buildCoreReadout(cfg);
}

/** The median of `values` (the mean of the middle two for an even count; NaN when empty). */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length ? (s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2) : Number.NaN;
}

/** Median ms of `runs` timed calls after `warmup` untimed ones. */
export async function time(fn, { runs = 7, warmup = 2 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const ts = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  return { median_ms: median(ts), min_ms: Math.min(...ts), max_ms: Math.max(...ts), runs };
}

export function peakRssMb() {
  return process.resourceUsage().maxRSS / 1024;
}

/** Deterministic pseudo-random data (no tfjs RNG, so both engines see the same numbers). */
export function randomData(n, seed, kind = 'normal') {
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (kind === 'poisson') {
      // Poisson(0.8) by inversion
      let k = 0;
      let p = Math.exp(-0.8);
      let c = p;
      const v = u();
      while (v > c && k < 20) {
        k++;
        p *= 0.8 / k;
        c += p;
      }
      out[i] = k;
    } else out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  }
  return out;
}

/** The bundled dataset (apps/cli/configs/bundled_core_readout.yaml → paths.data_dir, relative to apps/cli). */
export const BUNDLED_DATA = join(ROOT, 'apps', 'cli', 'data', 'natural_2x18x16');
/** The epochs of figures (d) and (f), ours and OpenRetina's: BENCH_EPOCHS, default 4. */
export const BUNDLED_EPOCHS = process.env.BENCH_EPOCHS ?? '4';

// The two sides of figure (f), the whole run on the bundled dataset, as node and python arguments. `pnpm bench` and
// `pnpm bench:paired` both run these, so that the pairs time what the bench times.

/** Ours: bench/epoch-phases.mjs, the bin's stand-in, for BUNDLED_EPOCHS epochs (its JSON at `json`). */
export function bundledRunArgs(json) {
  return [join(ROOT, 'bench', 'epoch-phases.mjs'), BUNDLED_EPOCHS, 'bundled_core_readout', json];
}

/** OpenRetina's: train_reference.py on the bundled dataset with the preset's settings (its JSON, with (d)'s epoch times, at `json`). */
export function trainReferenceArgs(json) {
  const settings = ['--batch-size', '16', '--max-epochs', BUNDLED_EPOCHS, '--patience', '5', '--threads', '2'];
  return [join(ROOT, 'reference', 'pytorch', 'train_reference.py'), BUNDLED_DATA, ...settings, '--json', json];
}

/**
 * Runs a command to its end and returns its wall seconds and peak RSS (MB, from GNU time's %M when /usr/bin/time
 * exists; null otherwise), plus spawnSync's result: the whole-run figure compares what a user waits for.
 */
export function timedRun(cmd, args, options) {
  const gnuTime = existsSync('/usr/bin/time');
  const t0 = performance.now();
  const r = gnuTime ? spawnSync('/usr/bin/time', ['-f', '__TIMED__ %e %M', cmd, ...args], options) : spawnSync(cmd, args, options);
  const wallS = (performance.now() - t0) / 1000;
  const m = /__TIMED__ ([\d.]+) (\d+)/.exec(r.stderr ?? '');
  return { r, wall_s: wallS, peak_rss_mb: m ? Number(m[2]) / 1024 : null };
}
