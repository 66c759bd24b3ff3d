import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toPlain } from '@openretina/formats';
import { ncdhwToNdhwc, relativeError } from '@openretina/test-utils/fixtures';
import {
  EXPORTED_FIXTURES,
  exportedCheckpoints,
  exportedOutput,
  publishedStandIns,
  publishedStimulus,
  standInPath,
} from '@openretina/test-utils/published-models';
import { coreReadoutFromCheckpointBytes, readOpenRetinaCheckpoint, writeOpenRetinaCheckpoint } from '../src/index.js';

const exported = exportedCheckpoints();
const standIns = publishedStandIns();

describe('writeOpenRetinaCheckpoint: checkpoints that OpenRetina loads (checked with PyTorch, committed as fixtures)', () => {
  it('covers an ExampleCoreReadout and a UnifiedCoreReadout stand-in', () => {
    expect(Object.keys(exported).sort()).toEqual(['hoefling_2024_base_low_res', 'hoefling_2024_cnn_low_res']);
  });

  for (const [stem, entry] of Object.entries(exported)) {
    it(`${stem}: our export reproduces the file OpenRetina loaded, and predicts what PyTorch predicted from it`, () => {
      const before = tf.memory().numTensors;
      const committed = new Uint8Array(readFileSync(join(EXPORTED_FIXTURES, entry.file)));
      const model = coreReadoutFromCheckpointBytes(new Uint8Array(readFileSync(standInPath(entry.published_name))));
      let bytes: Uint8Array;
      try {
        bytes = writeOpenRetinaCheckpoint(model);
      } finally {
        model.dispose();
      }
      // same state dict (keys, order, dtypes, values) and hyper-parameters as the committed file
      const ours = readOpenRetinaCheckpoint(bytes);
      const theirs = readOpenRetinaCheckpoint(committed);
      expect(ours.kind).toBe('lightning');
      expect([...ours.stateDict.keys()]).toEqual([...theirs.stateDict.keys()]);
      for (const [k, t] of theirs.stateDict) {
        const o = ours.stateDict.get(k)!;
        expect([o.dtype, [...o.shape]], k).toEqual([t.dtype, [...t.shape]]);
        expect(
          Buffer.from(o.data.buffer, o.data.byteOffset, o.data.byteLength).equals(
            Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
          ),
          k,
        ).toBe(true);
      }
      expect(Object.keys(ours.hyperParameters).sort()).toEqual(entry.hyper_parameters);
      expect(toPlain(ours.hyperParameters)).toEqual(toPlain(theirs.hyperParameters));
      // the writer is deterministic: the very bytes
      expect(Buffer.from(bytes).equals(Buffer.from(committed))).toBe(true);

      const reloaded = coreReadoutFromCheckpointBytes(committed);
      try {
        const stimulus = publishedStimulus(standIns[entry.published_name]!);
        const { data, shape } = ncdhwToNdhwc({ shape: stimulus.shape, dtype: 'F32', data: stimulus.data });
        const y = tf.tidy(() => reloaded.forward(tf.tensor5d(data, shape)));
        expect(y.shape).toEqual(entry.output_shape);
        const values = y.dataSync();
        y.dispose();
        expect(relativeError(values, exportedOutput(stem))).toBeLessThan(1e-5);
      } finally {
        reloaded.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('writes the torch 2 zip layout: archive/ root, byteorder, .data/serialization_id, 64-byte aligned records', () => {
    const bytes = new Uint8Array(readFileSync(join(EXPORTED_FIXTURES, exported.hoefling_2024_base_low_res!.file)));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const names: string[] = [];
    for (let at = 0; view.getUint32(at, true) === 0x04034b50; ) {
      const nameLength = view.getUint16(at + 26, true);
      const dataStart = at + 30 + nameLength + view.getUint16(at + 28, true);
      const name = Buffer.from(bytes.subarray(at + 30, at + 30 + nameLength)).toString('utf8');
      expect(dataStart % 64, name).toBe(0);
      names.push(name);
      at = dataStart + view.getUint32(at + 18, true);
    }
    expect(names.filter((n) => !n.startsWith('archive/data/'))).toEqual([
      'archive/data.pkl',
      'archive/.format_version',
      'archive/.storage_alignment',
      'archive/byteorder',
      'archive/version',
      'archive/.data/serialization_id',
    ]);
    // one storage per tensor: the state dict's and data_info's (mean activities)
    expect(names.filter((n) => n.startsWith('archive/data/')).length).toBeGreaterThanOrEqual(
      readOpenRetinaCheckpoint(bytes).stateDict.size,
    );
  });

  it('a model without a recorded architecture is a ConfigError naming the option', async () => {
    const { buildCoreReadout } = await import('@openretina/models');
    const model = buildCoreReadout({
      in_shape: [1, 8, 6, 6],
      n_neurons_dict: { s: 2 },
      hidden_channels: [2],
      core: {
        temporal_kernel_sizes: [3],
        spatial_kernel_sizes: [3],
        gamma_input: 0,
        gamma_temporal: 0,
        gamma_in_sparse: 0,
        gamma_hidden: 0,
        cut_first_n_frames: 0,
      },
      readout: {},
    });
    try {
      expect(() => writeOpenRetinaCheckpoint(model)).toThrow(/no recorded OpenRetina architecture.*pass \{ architecture \}/);
    } finally {
      model.dispose();
    }
  });
});
