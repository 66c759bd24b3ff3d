import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isOpenRetinaError } from '@openretina/contracts';
import {
  composeConfig,
  configEnvironment,
  resolveExperiment,
  resolveInterpolations,
  sweeperSettings,
  validateExperiment,
  type ConfigTree,
} from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'openretina-config-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A config tree in a temporary folder: path → YAML text. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(root, 'tree-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function expectConfigError(fn: () => unknown, ...texts: string[]): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(isOpenRetinaError(error, 'OPENRETINA_CONFIG'), String(error)).toBe(true);
  for (const t of texts) expect((error as Error).message).toContain(t);
}

const CLOCK = new Date(2024, 4, 6, 7, 8, 9);
const jobOf = (c: ConfigTree) => {
  const { hydra: _h, ...job } = c;
  return job;
};

describe('composition (Hydra defaults lists)', () => {
  const dir = tree({
    'main.yaml': 'defaults:\n  - model: small\n  - cb: [a, b]\n  - extra: null\n  - _self_\nname: main\nmodel:\n  width: 8\n',
    'self_first.yaml': 'defaults:\n  - _self_\n  - model: small\nmodel:\n  width: 8\n',
    'no_self.yaml': 'defaults:\n  - model: small\nmodel:\n  width: 8\n',
    'must_choose.yaml': 'defaults:\n  - model: ???\n',
    'with_override.yaml':
      'defaults:\n  - model: small\n  - override model: large\n  - override hydra/sweeper: optuna\n  - _self_\nhydra:\n  sweeper:\n    n_trials: 5\n',
    'model/small.yaml': 'width: 4\ndepth: 2\n',
    'model/large.yaml': 'width: 64\ndepth: 8\n',
    'cb/a.yaml': 'a:\n  x: 1\n',
    'cb/b.yaml': 'b:\n  y: 2\n',
    'extra/on.yaml': 'flag: true\n',
  });

  it('merges groups into their packages in order, lists of options each, null drops a group', () => {
    const c = composeConfig('main', { configDir: dir });
    expect(jobOf(c)).toEqual({ model: { width: 8, depth: 2 }, cb: { a: { x: 1 }, b: { y: 2 } }, name: 'main' });
    expect(c.hydra).toMatchObject({ runtime: { choices: { model: 'small', cb: ['a', 'b'], extra: null } } });
  });

  it('places _self_ where it stands (at the end when absent)', () => {
    expect(composeConfig('self_first', { configDir: dir }).model).toEqual({ width: 4, depth: 2 });
    expect(composeConfig('no_self', { configDir: dir }).model).toEqual({ width: 8, depth: 2 });
  });

  it('override entries and group=option replace a choice; Hydra plugin groups are recorded', () => {
    const c = composeConfig('with_override', { configDir: dir });
    expect(c.model).toEqual({ width: 64, depth: 8 });
    expect(sweeperSettings(resolveExperiment(c, { now: CLOCK, cwd: '/w', env: {} }))).toMatchObject({
      sweeper: 'optuna',
      settings: { n_trials: 5 },
    });
    expect(composeConfig('main', { configDir: dir, overrides: ['model=large'] }).model).toEqual({ width: 8, depth: 8 });
  });

  it('+group=option adds a defaults entry after the primary config, group=option fills a null one, ~group and group=null drop one', () => {
    expect(composeConfig('self_first', { configDir: dir, overrides: ['+extra=on'] }).extra).toEqual({ flag: true });
    expect(composeConfig('main', { configDir: dir, overrides: ['extra=on'] }).extra).toEqual({ flag: true });
    expectConfigError(() => composeConfig('main', { configDir: dir, overrides: ['+extra=on'] }), 'already in the defaults list');
    expect(composeConfig('main', { configDir: dir, overrides: ['~cb'] }).cb).toBeUndefined();
    expect(composeConfig('main', { configDir: dir, overrides: ['cb=null'] }).cb).toBeUndefined();
  });

  it('value overrides: key=value must exist, +key must not, ++key either, ~key deletes', () => {
    const c = composeConfig('main', {
      configDir: dir,
      overrides: ['model.width=3', '+model.heads=2', '++model.depth=5', '++new.key=[1,2]', '~name'],
    });
    expect(jobOf(c)).toEqual({ model: { width: 3, depth: 5, heads: 2 }, cb: { a: { x: 1 }, b: { y: 2 } }, new: { key: [1, 2] } });
    expectConfigError(
      () => composeConfig('main', { configDir: dir, overrides: ['model.heads=2'] }),
      'Unknown config key "model.heads"',
      '+model.heads',
    );
    expectConfigError(() => composeConfig('main', { configDir: dir, overrides: ['+model.width=2'] }), 'already in the config');
    expectConfigError(() => composeConfig('main', { configDir: dir, overrides: ['~model.nope'] }), 'no such key');
    expectConfigError(() => composeConfig('main', { configDir: dir, overrides: ['name'] }), 'not of the form key=value');
  });

  it("one key given twice: applied in order as Hydra's OmegaConf.update(merge=True), the last value wins, mappings merge", () => {
    const c = composeConfig('main', {
      configDir: dir,
      overrides: ['model.width=3', 'model.width=5', 'model={depth: 7}', 'model={heads: 2}', '++new={a: 1}', '++new={b: 2}'],
    });
    expect(jobOf(c).model).toEqual({ width: 5, depth: 7, heads: 2 });
    expect(jobOf(c).new).toEqual({ a: 1, b: 2 });
    // a value replaces a mapping (and a mapping a value); a group chosen twice: the last choice
    expect(composeConfig('main', { configDir: dir, overrides: ['name=x', 'name={first: 1}'] }).name).toEqual({ first: 1 });
    expect(composeConfig('main', { configDir: dir, overrides: ['model=large', 'model=small'] }).model).toEqual({ width: 8, depth: 2 });
    // +key twice: the second finds the key there, as Hydra refuses it
    expectConfigError(() => composeConfig('main', { configDir: dir, overrides: ['+k=1', '+k=2'] }), 'already in the config');
  });

  it("Lightning's trainer.limit_*_batches are set without + (their default is null)", () => {
    const d = tree({ 'run.yaml': 'trainer:\n  max_epochs: 2\n' });
    const c = composeConfig('run', {
      configDir: d,
      overrides: ['trainer.limit_train_batches=10', 'trainer.limit_val_batches=0.5', 'trainer.limit_test_batches=null'],
    });
    expect(c.trainer).toEqual({ max_epochs: 2, limit_train_batches: 10, limit_val_batches: 0.5, limit_test_batches: null });
    expectConfigError(() => composeConfig('run', { configDir: d, overrides: ['trainer.limit_nothing=1'] }), 'Unknown config key');
  });

  it('refuses a group left ??? and an option that does not exist, naming the available ones', () => {
    expectConfigError(() => composeConfig('must_choose', { configDir: dir }), 'you must choose the "model" config');
    expect(composeConfig('must_choose', { configDir: dir, overrides: ['model=small'] }).model).toEqual({ width: 4, depth: 2 });
    expectConfigError(
      () => composeConfig('main', { configDir: dir, overrides: ['model=huge'] }),
      'has no option "huge"',
      'Available: large, small',
    );
    expectConfigError(() => composeConfig('nope', { configDir: dir }), 'No config "nope"', 'main');
  });
});

describe('interpolations (OmegaConf grammar) and the Hydra runtime', () => {
  it('resolves keys (keeping their type), nested resolvers, oc.env with defaults, now, len and escapes', () => {
    const r = resolveInterpolations(
      {
        a: { b: [1, 2, 3], n: 7, s: 'x' },
        list: '${a.b}',
        text: 'n=${a.n}/${a.s}',
        count: '${len:${a.b}}',
        home: '${oc.env:HOME_DIR}',
        fallback: '${oc.env:MISSING_VAR,${a.s}_default}',
        uri: '${oc.env:NOPE,sqlite:///${a.s}/db}',
        stamp: '${now:%Y-%m-%d_%H-%M-%S}',
        literal: 'keep \\${a.n}',
        missing: '???',
      },
      { now: CLOCK, env: { HOME_DIR: '/home/me' } },
    );
    expect(r).toMatchObject({
      list: [1, 2, 3],
      text: 'n=7/x',
      count: 3,
      home: '/home/me',
      fallback: 'x_default',
      uri: 'sqlite:///x/db',
      stamp: '2024-05-06_07-08-09',
      literal: 'keep ${a.n}',
      missing: '???',
    });
    expectConfigError(() => resolveInterpolations({ a: '${b}' }), 'missing key');
    expectConfigError(() => resolveInterpolations({ a: '${b}', b: '${a}' }), 'cycle');
    expectConfigError(() => resolveInterpolations({ a: '${b}', b: '???' }), 'which is ???');
    expectConfigError(() => resolveInterpolations({ a: '${oc.env:NOT_SET}' }, { env: {} }), 'NOT_SET is not set');
  });

  it('hydra.run.dir (with ${now:...}) becomes runtime.output_dir, read by ${hydra:runtime.output_dir}; cwd too', () => {
    const composed: ConfigTree = {
      exp: 'e1',
      paths: { log_dir: 'logs', output_dir: '${hydra:runtime.output_dir}', here: '${hydra:runtime.cwd}' },
      hydra: { run: { dir: '${paths.log_dir}/runs/${exp}/${now:%Y-%m-%d_%H-%M-%S}' } },
    };
    const { config, hydra } = resolveExperiment(composed, { now: CLOCK, cwd: '/lab/project', env: {} });
    expect(config.paths).toEqual({ log_dir: 'logs', output_dir: '/lab/project/logs/runs/e1/2024-05-06_07-08-09', here: '/lab/project' });
    expect(hydra).toMatchObject({ runtime: { output_dir: '/lab/project/logs/runs/e1/2024-05-06_07-08-09', cwd: '/lab/project' } });
    // Hydra's own default run dir applies when the configs set none
    const plain = resolveExperiment(composeConfig('hdf5_core_readout', { overrides: ['~hydra.run.dir', '+hydra.run.dir=outputs/x'] }), {
      now: CLOCK,
      cwd: '/w',
      env: configEnvironment({}),
    });
    expect(plain.config.paths).toMatchObject({ output_dir: '/w/outputs/x' });
  });

  it('OPENRETINA_CACHE_DIRECTORY defaults to ~/openretina_cache, as importing OpenRetina sets it', () => {
    expect(configEnvironment({}).OPENRETINA_CACHE_DIRECTORY).toMatch(/openretina_cache$/);
    expect(configEnvironment({ OPENRETINA_CACHE_DIRECTORY: '/c' }).OPENRETINA_CACHE_DIRECTORY).toBe('/c');
  });
});

describe('experiment schema', () => {
  const resolved = (overrides: string[] = [], name = 'hoefling_2024_core_readout_low_res') =>
    resolveExperiment(composeConfig(name, { overrides }), { now: CLOCK, cwd: '/w', env: configEnvironment({}) }).config;

  it("validates OpenRetina's low-res Höfling experiment with OpenRetina's values", () => {
    const v = validateExperiment(resolved());
    expect(v.dataloader).toMatchObject({ batch_size: 128, _target_: 'openretina.data_io.hoefling_2024.dataloaders.natmov_dataloaders_v2' });
    expect(v.model).toMatchObject({ in_shape: [2, 150, 18, 16], core: { gamma_temporal: 40 }, optimizer: { lr: 0.01 } });
    expect(v.lr_scheduler).toMatchObject({ mode: 'max', factor: 0.3, patience: 5, threshold: 0.0005, threshold_mode: 'abs' });
    expect(v.training_callbacks?.early_stopping).toMatchObject({ patience: 10, min_delta: 0.001, mode: 'max' });
    expect(v.trainer).toMatchObject({ max_epochs: 100, gradient_clip_val: 1, _target_: 'lightning.Trainer' });
    expect(v.matmul_precision).toEqual({ _target_: 'torch.set_float32_matmul_precision', precision: 'highest' });
    expect(v.paths.output_dir).toBe('/w/openretina_assets/runs/hoefling_2024_core_readout_low_res_filtered/2024-05-06_07-08-09');
    // quality_checks reach the filter through data_io's interpolations
    expect(v.data_io).toMatchObject({ responses: { data_dict: { chirp_qi: 0.35, d_qi: 0.6, qi_logic: 'or' } } });
    expect(validateExperiment(resolved(['quality_checks.chirp_qi=0.5'])).data_io).toMatchObject({
      responses: { data_dict: { chirp_qi: 0.5 } },
    });
  });

  it('an unknown key names its path and the accepted keys; a wrong type names the path', () => {
    expectConfigError(
      () => validateExperiment(resolved(['+trainer.frobnicate=1'])),
      'trainer.frobnicate: unknown key "frobnicate"',
      'max_epochs',
    );
    expectConfigError(
      () => validateExperiment(resolved(['+model.core.gamma_inptu=1'])),
      'model.core.gamma_inptu: unknown key',
      'gamma_input',
    );
    expectConfigError(
      () => validateExperiment(resolved(['+data_io.responses.data_dict.chirp=1'])),
      'data_io.responses.data_dict.chirp: unknown key "chirp"',
      'chirp_qi',
    );
    expectConfigError(() => validateExperiment(resolved(['dataloader.batch_size=big'])), 'dataloader.batch_size');
    expectConfigError(() => validateExperiment(resolved(['model.core.gamma_input=high'])), 'model.core.gamma_input');
  });

  it('an unknown _target_ lists the accepted ones (readers, cores, losses, optimizers, callbacks)', () => {
    expectConfigError(
      () => validateExperiment(resolved(['data_io.stimuli._target_=my.reader'])),
      'unknown data reader "my.reader"',
      'hoefling_2024',
    );
    expectConfigError(
      () => validateExperiment(resolved(['model.core._target_=my.Core'])),
      'model.core._target_: unknown _target_ "my.Core"',
      'SimpleCoreWrapper',
    );
    expectConfigError(
      () => validateExperiment(resolved(['optimizer._target_=torch.optim.Adam'])),
      'optimizer._target_',
      'torch.optim.AdamW',
    );
    expectConfigError(
      () => validateExperiment(resolved(['training_callbacks.lr_monitor._target_=x.Y'])),
      'training_callbacks.lr_monitor._target_',
      'EarlyStopping',
    );
  });

  it('values this port does not implement are refused with the reason', () => {
    expectConfigError(
      () => validateExperiment(resolved(['data_io.responses.response_type=chirp'])),
      'data_io.responses.response_type',
      'natural',
    );
    expectConfigError(() => validateExperiment(resolved(['training_callbacks.model_checkpoint.save_top_k=3'])), 'save_top_k: 1');
    expectConfigError(() => validateExperiment(resolved(['trainer.accelerator=gpu'])), 'trainer.accelerator');
    // Lightning's limits are known without +; the test evaluation always uses every batch
    expect(validateExperiment(resolved(['trainer.limit_train_batches=3', 'trainer.limit_test_batches=null'])).trainer).toMatchObject({
      limit_train_batches: 3,
      limit_test_batches: null,
    });
    expectConfigError(() => validateExperiment(resolved(['trainer.limit_test_batches=5'])), 'limit_test_batches: null');
    expectConfigError(() => validateExperiment(resolved(['+evaluation=default', 'evaluation.model_path=m'])), 'compute_dataset_statistics');
    expect(
      validateExperiment(resolved(['+evaluation=default', 'evaluation.model_path=m', 'evaluation.compute_dataset_statistics=false']))
        .evaluation,
    ).toMatchObject({
      var_ratio_cutoff: 0.15,
      data_split: 'test',
    });
  });

  it('the README one-liner of the generic format (hdf5) overrides validate', () => {
    const v = validateExperiment(
      resolved(
        [
          'paths.data_dir=/data/my_lab',
          'data_io.test_names=[test_movie]',
          'data_io.color_channels=2',
          'data_io.video_height=18',
          'data_io.video_width=16',
          'model.hidden_channels=[16,16]',
          'model.core.temporal_kernel_sizes=[21,11]',
          'model.core.spatial_kernel_sizes=[11,5]',
          'lr_scheduler=cosine_annealing_lr',
          'seed=7',
        ],
        'hdf5_core_readout',
      ),
    );
    expect(v.model).toMatchObject({ in_shape: [2, 100, 18, 16], hidden_channels: [16, 16] });
    expect(v.data_io).toMatchObject({
      stimuli: { base_data_path: '/data/my_lab', stimulus_size: [2, 18, 16], test_names: ['test_movie'] },
    });
    expect(v.lr_scheduler?._target_).toBe('torch.optim.lr_scheduler.CosineAnnealingLR');
    expect(v.seed).toBe(7);
  });
});
