import { describe, expect, it } from 'vitest';
import { isOpenRetinaError } from '@openretina/contracts';
import { composeConfig, listPresets, resolveInterpolations, validateExperiment } from '../src/index.js';

const ctx = { hydra: { 'runtime.output_dir': '/tmp/run' }, env: {} };

describe('experiment configs', () => {
  it("ships the presets of OpenRetina's experiments", () => {
    expect(listPresets()).toEqual(
      expect.arrayContaining([
        'hdf5_core_readout',
        'hoefling_2024_core_readout_low_res',
        'hoefling_2024_core_readout_high_res',
        'hoefling_2024_core_readout_low_res_lnp',
        'hoefling_2024_gru_core_readout_low_res',
        'karamanlis_2024_core_readout',
        'maheswaranathan_2023_core_readout',
        'maheswaranathan_2023_LNP',
        'goldin_2022_core_readout',
      ]),
    );
  });

  it("composes the low-res Höfling experiment with OpenRetina's values", () => {
    const cfg = resolveInterpolations(composeConfig('hoefling_2024_core_readout_low_res'), ctx);
    const v = validateExperiment(cfg);
    expect(v.model.in_shape).toEqual([2, 150, 18, 16]);
    expect(v.model.core.gamma_temporal).toBe(40);
    expect(v.dataloader.batch_size).toBe(128);
    expect(v.optimizer?.lr).toBe(0.01);
    expect(v.lr_scheduler).toMatchObject({ mode: 'max', factor: 0.3, patience: 5, threshold: 0.0005, threshold_mode: 'abs' });
    expect(v.training_callbacks?.early_stopping).toMatchObject({ patience: 10, min_delta: 0.001, mode: 'max' });
    expect(v.trainer).toMatchObject({ max_epochs: 100, gradient_clip_val: 1 });
    expect(v.paths.cache_dir).toBe('~/openretina_cache');
    expect(v.paths.output_dir).toBe('/tmp/run');
  });

  it('applies Hydra-style overrides, including the hdf5 one-liner of the README', () => {
    const cfg = composeConfig('hdf5_core_readout', {
      overrides: [
        'paths.data_dir=/data/my_lab',
        'data_io.test_names=[test_movie]',
        'data_io.color_channels=2',
        'data_io.video_height=18',
        'data_io.video_width=16',
        'model.hidden_channels=[16,16]',
        'model.core.temporal_kernel_sizes=[21,11]',
        'model.core.spatial_kernel_sizes=[11,5]',
        'model.core.hidden_padding=[0,2,2]',
        'dataloader.batch_size=32',
        'trainer.max_epochs=3',
        'training_callbacks.early_stopping.patience=2',
        'seed=7',
        'lr_scheduler=cosine_annealing_lr',
      ],
    });
    const v = validateExperiment(resolveInterpolations(cfg, ctx));
    expect(v.model.in_shape).toEqual([2, 100, 18, 16]);
    expect(v.model.hidden_channels).toEqual([16, 16]);
    expect(v.paths.data_dir).toBe('/data/my_lab');
    expect(v.data_io.test_names).toEqual(['test_movie']);
    expect(v.lr_scheduler?._target_).toBe('torch.optim.lr_scheduler.CosineAnnealingLR');
    expect(v.seed).toBe(7);
    expect(v.trainer.max_epochs).toBe(3);
    expect(v.training_callbacks?.early_stopping?.patience).toBe(2);
  });

  it('gives clear errors for unknown keys, bad values, unknown presets and groups', () => {
    const expectConfigError = (fn: () => unknown, text: string) => {
      try {
        fn();
        expect.unreachable('no error');
      } catch (e) {
        expect(isOpenRetinaError(e, 'OPENRETINA_CONFIG')).toBe(true);
        expect((e as Error).message).toContain(text);
      }
    };
    expectConfigError(
      () => composeConfig('hdf5_core_readout', { overrides: ['trainer.max_epoch=3'] }),
      'Unknown config key "trainer.max_epoch"',
    );
    expectConfigError(() => composeConfig('no_such_experiment'), 'not one of the presets');
    expectConfigError(() => composeConfig('hdf5_core_readout', { overrides: ['model=nope'] }), 'has no option "nope"');
    expectConfigError(() => composeConfig('hdf5_core_readout', { overrides: ['seed'] }), 'not of the form key=value');
    const bad = resolveInterpolations(
      composeConfig('hdf5_core_readout', { overrides: ['dataloader.batch_size=-1', '+trainer.foo=1'] }),
      ctx,
    );
    expectConfigError(() => validateExperiment(bad), 'dataloader.batch_size');
    expectConfigError(() => validateExperiment(bad), 'unknown key(s) "foo"');
    expectConfigError(() => resolveInterpolations({ a: '${b}' }, ctx), 'missing key');
    expectConfigError(() => resolveInterpolations({ a: '${b}', b: '${a}' }, ctx), 'cycle');
  });
});
