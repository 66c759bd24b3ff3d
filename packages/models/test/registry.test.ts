import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isOpenRetinaError } from '@openretina/contracts';
import { buildCoreReadout, type CoreReadoutConfig } from '../src/index.js';
import { OPENRETINA_FIXTURES } from '../../../test-utils/fixtures.js';

const manifest = JSON.parse(readFileSync(join(OPENRETINA_FIXTURES, 'manifest.json'), 'utf8')) as {
  config: { model_cfg_resolved: CoreReadoutConfig };
};
const stateKeys = JSON.parse(readFileSync(join(OPENRETINA_FIXTURES, 'state_dict.json'), 'utf8')) as {
  entries: { key: string; shape: number[] }[];
};

describe('model registry', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('builds the fixture architecture from the OpenRetina config with PyTorch state-dict keys, order and shapes', () => {
    const cfg = { ...manifest.config.model_cfg_resolved, readout: { ...manifest.config.model_cfg_resolved.readout } };
    delete (cfg.readout as Record<string, unknown>).in_shape; // computed from the core, as UnifiedCoreReadout does
    const model = buildCoreReadout(cfg);
    const sd = model.stateDict();
    expect([...sd.keys()]).toEqual(stateKeys.entries.map((e) => e.key));
    for (const e of stateKeys.entries) expect([...sd.get(e.key)!.shape], e.key).toEqual(e.shape);
    expect(model.framesCut).toBe(30);
    expect(model.sessions).toEqual(['session_1', 'session_2', 'session_3']);
    model.dispose();
  });

  it('rejects unknown keys and targets with a clear ConfigError', () => {
    const cfg = manifest.config.model_cfg_resolved;
    const typo = () => buildCoreReadout({ ...cfg, core: { ...cfg.core, gamma_inptu: 1 } });
    expect(typo).toThrow(/unknown option\(s\) gamma_inptu/);
    try {
      buildCoreReadout({ ...cfg, readout: { ...cfg.readout, _target_: 'my.Readout' } });
    } catch (e) {
      expect(isOpenRetinaError(e, 'OPENRETINA_CONFIG')).toBe(true);
      expect((e as Error).message).toContain('Unknown readout _target_ "my.Readout"');
    }
  });
});
