import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, SPECIFICATION_VERSION, UnknownSessionError, type MultiReadout } from '@openretina/contracts';
import { Module, toRng, type Rng } from '@openretina/layers';
import type { ReadoutBase, ReadoutInShape } from './readout-base.js';

/** Builds one session's readout. */
export type ReadoutFactory<R extends ReadoutBase> = (args: {
  session: string;
  inShape: ReadoutInShape;
  outDims: number;
  meanActivity: Float32Array | undefined;
  seed: Rng;
}) => R;

export interface MultiReadoutOptions {
  inShape: ReadoutInShape;
  nNeuronsDict: Readonly<Record<string, number>>;
  meanActivityDict?: Readonly<Record<string, Float32Array>> | undefined;
  /** Mean instead of sum in the per-session regularizer (`readout_reg_avg`). */
  readoutRegAvg?: boolean;
  /**
   * OpenRetina's `clone_readout`: the sessions given at construction after the first become `ClonedReadout`s of
   * the first (shared readout, per-neuron `alpha`/`beta`); sessions added later get their own readouts. Needs a
   * subclass that supports it (one that passes a clone builder).
   */
  cloneReadout?: boolean;
  seed?: number | Rng;
}

/** Builds the clone of the first session's readout for a later session (`clone_readout`). */
export type CloneFactory<R extends ReadoutBase> = (source: R, session: string) => R;

/**
 * Per-session readouts behind one module (OpenRetina's `MultiReadoutBase`): entries are
 * `<session>.<param>`, sessions in insertion order; `forward` without a session concatenates all sessions
 * along the neuron axis in sorted order.
 */
export class MultiReadoutBase<R extends ReadoutBase = ReadoutBase> extends Module implements MultiReadout {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly inShape: ReadoutInShape;
  readonly readoutRegAvg: boolean;
  /** Whether later sessions given at construction clone the first session's readout. */
  readonly cloneReadout: boolean;
  private readonly readouts = new Map<string, R>();
  private readonly factory: ReadoutFactory<R>;
  private readonly rng: Rng;

  constructor(options: MultiReadoutOptions, factory: ReadoutFactory<R>, clone?: CloneFactory<R>) {
    super();
    this.inShape = options.inShape;
    this.readoutRegAvg = options.readoutRegAvg ?? false;
    this.cloneReadout = options.cloneReadout ?? false;
    this.factory = factory;
    this.rng = toRng(options.seed);
    try {
      this.buildSessions(options, clone);
    } catch (error) {
      this.dispose(); // the sessions built before the failure
      throw error;
    }
  }

  private buildSessions(options: MultiReadoutOptions, clone: CloneFactory<R> | undefined): void {
    if (!this.cloneReadout) {
      this.addSessions(options.nNeuronsDict, options.meanActivityDict);
      return;
    }
    if (!clone) throw new ConfigError(`${this.constructor.name} does not support cloneReadout.`);
    const [first, ...rest] = Object.entries(options.nNeuronsDict);
    if (!first) return;
    this.addSessions({ [first[0]]: first[1] }, options.meanActivityDict);
    const source = this.readout(first[0]);
    for (const [session, n] of rest) {
      if (n !== source.outDims) {
        throw new ConfigError(
          `cloneReadout: session "${session}" has ${n} neurons, the cloned session "${first[0]}" has ${source.outDims}.`,
        );
      }
      this.readouts.set(session, this.registerModule(session, clone(source, session)));
    }
  }

  /** Sorted session keys. */
  get sessions(): string[] {
    return [...this.readouts.keys()].sort();
  }

  /** The readout of a session; throws `UnknownSessionError` for an unknown one. */
  readout(session: string): R {
    const r = this.readouts.get(session);
    if (!r) throw new UnknownSessionError(session, this.sessions);
    return r;
  }

  numNeurons(session: string): number {
    return this.readout(session).outDims;
  }

  get nNeuronsDict(): Record<string, number> {
    return Object.fromEntries([...this.readouts].map(([k, r]) => [k, r.outDims]));
  }

  addSessions(nNeurons: Readonly<Record<string, number>>, meanActivity?: Readonly<Record<string, Float32Array>>): void {
    const duplicates = Object.keys(nNeurons).filter((k) => this.readouts.has(k));
    if (duplicates.length) throw new ConfigError(`Sessions already exist in the readout: ${duplicates.join(', ')}.`);
    for (const [session, n] of Object.entries(nNeurons)) {
      if (!Number.isInteger(n) || n < 1) throw new ConfigError(`Session "${session}" needs a positive neuron count, got ${n}.`);
      const r = this.factory({ session, inShape: this.inShape, outDims: n, meanActivity: meanActivity?.[session], seed: this.rng.fork() });
      this.readouts.set(session, this.registerModule(session, r));
    }
  }

  forward(features: tf.Tensor5D, options: { session?: string } = {}): tf.Tensor3D {
    if (options.session !== undefined) return this.readout(options.session).forward(features);
    return tf.tidy(
      () =>
        tf.concat(
          this.sessions.map((s) => this.readout(s).forward(features)),
          -1,
        ) as tf.Tensor3D,
    );
  }

  /** The session's readout penalty (sum, or mean with `readoutRegAvg`); the session may be omitted only with one session. */
  regularizer(session?: string, reduction?: 'sum' | 'mean'): tf.Scalar {
    let key = session;
    if (key === undefined) {
      if (this.readouts.size !== 1) throw new ConfigError(`regularizer() needs a session when there are ${this.readouts.size} sessions.`);
      key = [...this.readouts.keys()][0]!;
    }
    return this.readout(key).regularizer(reduction ?? (this.readoutRegAvg ? 'mean' : 'sum'));
  }
}
