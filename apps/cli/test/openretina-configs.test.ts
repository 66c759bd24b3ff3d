// OpenRetina's own experiment configs: our counterparts compose exactly as the Python reference composed the
// originals (fixtures/configs, made by reference/pytorch/make_config_fixtures.py), validate with our schemas, and
// their models build.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isOpenRetinaError } from '@openretina/contracts';
import { buildCoreReadout, buildModel, type StaFilterLoader } from '@openretina/models';
import { CONFIG_FIXTURES } from '@openretina/test-utils/fixtures';
import {
  architectureFromConfig,
  composeConfig,
  configEnvironment,
  coreReadoutSection,
  experimentLosses,
  listPresets,
  presetsDirectory,
  resolveExperiment,
  validateExperiment,
  type ConfigTree,
} from '../src/index.js';

interface Composition {
  overrides: string[];
  config?: ConfigTree;
  hydra?: ConfigTree;
  error?: string;
}
interface ConfigFixture {
  config_name: string;
  clock: string;
  cwd: string;
  env: Record<string, string>;
  compositions: Composition[];
}

const fixtures: ConfigFixture[] = readdirSync(CONFIG_FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(CONFIG_FIXTURES, f), 'utf8')) as ConfigFixture);

/** The fixtures' clock, read as local time like Python's naive datetime. */
const clockOf = (iso: string) => {
  const [d, t] = iso.split('T') as [string, string];
  const [y, mo, da] = d.split('-').map(Number) as [number, number, number];
  const [h, mi, s] = t.split(':').map(Number) as [number, number, number];
  return new Date(y, mo - 1, da, h, mi, s);
};

function compose(configDir: string, fx: ConfigFixture, overrides: readonly string[]) {
  return resolveExperiment(composeConfig(fx.config_name, { configDir, overrides }), { now: clockOf(fx.clock), cwd: fx.cwd, env: fx.env });
}

function expectSameAsHydra(configDir: string, fx: ConfigFixture): void {
  for (const c of fx.compositions) {
    if (c.error !== undefined) {
      let error: unknown;
      try {
        compose(configDir, fx, c.overrides);
      } catch (e) {
        error = e;
      }
      expect(isOpenRetinaError(error, 'OPENRETINA_CONFIG'), `${fx.config_name} should fail like Hydra: ${c.error}`).toBe(true);
      continue;
    }
    const got = compose(configDir, fx, c.overrides);
    expect(got.config, `${fx.config_name} ${c.overrides.join(' ')}`).toEqual(c.config);
    expect(got.hydra, `${fx.config_name} hydra ${c.overrides.join(' ')}`).toEqual(c.hydra);
  }
}

/** Values OpenRetina's configs leave `???` for the user (data-dependent ones come from the data at run time). */
const SUPPLIED: Record<string, string[]> = {
  template_outer_config: [
    'model.in_shape=[3,100,16,8]',
    'model.hidden_channels=[4]',
    'model.core.spatial_kernel_sizes=[5]',
    'model.core.temporal_kernel_sizes=[5]',
  ],
  vystrcilova_2024_nm_ln: ['model.in_shape=[1,30,80,90]'],
  vystrcilova_2024_wn_ln: ['model.in_shape=[1,30,80,90]'],
};

/** Synthetic STA filters (a bright centre pixel and a decaying temporal kernel) in place of the STA files. */
const loadStaFilters: StaFilterLoader = ({ targetShape: [h, w], temporalCropFrames }) => {
  const spatialFilter = new Float32Array(h * w);
  spatialFilter[Math.floor(h / 2) * w + Math.floor(w / 2)] = 1;
  const temporalFilter = Float32Array.from({ length: temporalCropFrames ?? 30 }, (_, i) => Math.exp(-i / 5));
  return { spatialFilter, temporalFilter, center: { x: Math.floor(w / 2), y: Math.floor(h / 2) } };
};

describe("OpenRetina's experiment configs", () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('every top-level config of the fixtures is a preset, beside our bundled_core_readout', () => {
    expect(fixtures.length).toBe(19);
    expect(listPresets()).toEqual(expect.arrayContaining([...fixtures.map((f) => f.config_name), 'bundled_core_readout']));
  });

  for (const fx of fixtures) {
    describe(fx.config_name, () => {
      it('composes from our config tree exactly as Hydra composes the original (job config and hydra node)', () => {
        expectSameAsHydra(presetsDirectory(), fx);
      });

      it('validates with our schemas and its model builds', () => {
        const last = fx.compositions[fx.compositions.length - 1]!;
        const { config } = compose(presetsDirectory(), fx, [...last.overrides, ...(SUPPLIED[fx.config_name] ?? [])]);
        const cfg = validateExperiment(config);
        const nNeuronsDict = { session_a: 3, session_b: 2 };
        const before = tf.memory().numTensors;
        if ('_target_' in cfg.model) {
          const model = buildModel(cfg.model, {
            nNeuronsDict,
            seed: 1,
            loadStaFilters,
            dataInfo: {
              nNeuronsDict,
              inputShape: [1, 80, 90],
              meanActivityDict: {},
              sessionsKwargs: { session_a: { cell_indices: [0, 1, 2] }, session_b: { cell_indices: [4, 5] } },
            },
          });
          let stateKeys = 0;
          tf.tidy(() => {
            stateKeys = model.stateDict().size; // copies made here are freed by tidy
          });
          expect(stateKeys).toBeGreaterThan(0);
          model.dispose();
        } else {
          const section = coreReadoutSection(cfg);
          const inShape = section.in_shape as [number, number, number, number];
          const dataInfo = {
            nNeuronsDict,
            inputShape: [inShape[0], inShape[2], inShape[3]] as [number, number, number],
            meanActivityDict: {},
          };
          const losses = experimentLosses(section, dataInfo);
          const model = buildCoreReadout(architectureFromConfig(cfg, dataInfo), { seed: 1 });
          model.setLosses(losses);
          expect(model.sessions).toEqual(['session_a', 'session_b']);
          model.dispose();
        }
        expect(tf.memory().numTensors).toBe(before);
      });
    });
  }

  it.skipIf(!process.env.OPENRETINA_SRC)(
    'composes the ORIGINAL config tree ($OPENRETINA_SRC/configs) like Hydra too (skipped without OPENRETINA_SRC)',
    () => {
      for (const fx of fixtures) expectSameAsHydra(join(process.env.OPENRETINA_SRC!, 'configs'), fx);
    },
  );

  it('our own presets compose, validate and build too', () => {
    for (const name of ['bundled_core_readout', 'hoefling_2024_gru_core_readout_low_res']) {
      const { config } = resolveExperiment(composeConfig(name), { env: configEnvironment({}), cwd: '/cwd' });
      const cfg = validateExperiment(config);
      const section = coreReadoutSection(cfg);
      const inShape = section.in_shape as [number, number, number, number];
      const dataInfo = {
        nNeuronsDict: { s: 2 },
        inputShape: [inShape[0], inShape[2], inShape[3]] as [number, number, number],
        meanActivityDict: {},
      };
      buildCoreReadout(architectureFromConfig(cfg, dataInfo), { seed: 1 }).dispose();
    }
  });
});
