import * as tf from '@tensorflow/tfjs-core';
import { Rng, type RngState } from './random.js';
import {
  StateDictError,
  formatShape,
  type LoadStateDictOptions,
  type LoadStateDictResult,
  type StateDict,
  type StateDtype,
  type StatefulModule,
} from '@openretina/contracts';
import { fromStateTensor, toStateTensor } from './state-tensor.js';

interface BufferSlot {
  variable: tf.Variable;
  /** Persistent buffers appear in the state dict (PyTorch's `persistent=True`). */
  persistent: boolean;
  /** dtype reported in the state dict (e.g. `int64` for BatchNorm's `num_batches_tracked`, stored as int32 here). */
  stateDtype: StateDtype;
}

/**
 * The base of every layer, core, readout and model: a named tree of parameters, buffers and child modules
 * whose `stateDict()` uses OpenRetina's (PyTorch) names and shapes.
 *
 * Parameters and buffers are `tf.Variable`s stored in PyTorch layout; layers convert to TF.js layout inside
 * `forward`. Modules start in training mode, as in PyTorch.
 *
 * A child may be any `StatefulModule` of the contracts (a "foreign" child, e.g. a third party's core). The tree
 * operations reach a foreign child through the contract's methods only: its `stateDict()` entries appear under its
 * name, `loadStateDict` checks them against its current state dict and hands them to its `loadStateDict`, its
 * `namedParameters()` join the tree's, and `train`/`eval`/`dispose` are forwarded. Its buffers are reached
 * through its state dict only (`namedBuffers` lists ours).
 */
export abstract class Module {
  private readonly params = new Map<string, tf.Variable>();
  private readonly buffers = new Map<string, BufferSlot>();
  private readonly children = new Map<string, StatefulModule>();
  /** Names in `params` whose variable is owned by another module (registered a second time: not disposed here). */
  private readonly aliases = new Set<string>();
  /** Generators that draw during training (dropout masks, sampled readout positions), by name. */
  private readonly rngs = new Map<string, Rng>();
  private isTraining = true;

  /** Variables handed to `registerParameter` by name while `Module.sharingParameters` builds modules. */
  private static readonly sharedScopes: ReadonlyMap<string, tf.Variable>[] = [];

  /**
   * Builds modules (inside `build`) whose `registerParameter(name, …)` calls reuse the given variables instead of
   * creating new ones, when the name is a key of `shared`: the variable is registered as an alias (see
   * `registerSharedParameter`). This is PyTorch's "assign the same `Parameter` to several modules", e.g. the
   * per-session `log_speed_<session>` parameters that OpenRetina's GRU core hands to every convolution.
   */
  static sharingParameters<T>(shared: ReadonlyMap<string, tf.Variable>, build: () => T): T {
    Module.sharedScopes.push(shared);
    try {
      return build();
    } finally {
      Module.sharedScopes.pop();
    }
  }

  get training(): boolean {
    return this.isTraining;
  }

  /** Registers a trainable tensor under `name` (the module keeps ownership of the variable). */
  protected registerParameter(name: string, initial: tf.Tensor, trainable = true): tf.Variable {
    const shared = Module.sharedScopes[Module.sharedScopes.length - 1]?.get(name);
    if (shared) {
      if (!sameShape(shared.shape, initial.shape)) {
        initial.dispose();
        throw new StateDictError(
          `Shared parameter "${name}" has shape ${formatShape(shared.shape)}, ${this.constructor.name} expects ${formatShape(initial.shape)}.`,
        );
      }
      initial.dispose();
      return this.registerSharedParameter(name, shared);
    }
    this.assertFreeName(name);
    const v = tf.variable(initial, trainable, undefined, 'float32');
    initial.dispose();
    this.params.set(name, v);
    return v;
  }

  /**
   * Registers a parameter owned by another module a second time, under `name` here (a tied / shared parameter).
   * It appears under both names in `stateDict()` and `loadStateDict()` (as in PyTorch), but only once (under
   * its first name) in `namedParameters()`/`trainableParameters()`/`numParameters()`, and only its owner
   * disposes it.
   */
  protected registerSharedParameter(name: string, variable: tf.Variable): tf.Variable {
    this.assertFreeName(name);
    this.params.set(name, variable);
    this.aliases.add(name);
    return variable;
  }

  /** Registers a non-trainable tensor; `persistent` ones are saved in the state dict. */
  protected registerBuffer(name: string, initial: tf.Tensor, options: { persistent?: boolean; stateDtype?: StateDtype } = {}): tf.Variable {
    this.assertFreeName(name);
    const v = tf.variable(initial, false);
    initial.dispose();
    this.buffers.set(name, {
      variable: v,
      persistent: options.persistent ?? true,
      stateDtype: options.stateDtype ?? (initial.dtype === 'int32' ? 'int32' : 'float32'),
    });
    return v;
  }

  /**
   * Registers a child module — one of ours or any `StatefulModule` of the contracts — whose entries appear under
   * `name.` in the state dict. The tree owns it from now on (`dispose` disposes it).
   */
  protected registerModule<M extends StatefulModule>(name: string, module: M): M {
    this.assertFreeName(name);
    if (!isStatefulModule(module)) {
      throw new StateDictError(
        `"${name}" of ${this.constructor.name} is not a module: it needs namedParameters, stateDict, loadStateDict, train, eval and dispose.`,
      );
    }
    this.children.set(name, module);
    return module;
  }

  /**
   * Registers a generator that draws while the module trains (dropout, sampled positions), so that
   * {@link Module.randomState} can save where its stream stands and a resumed run continues it.
   */
  protected registerRng(name: string, rng: Rng): Rng {
    if (this.rngs.has(name)) throw new StateDictError(`Generator "${name}" is already registered on ${this.constructor.name}.`);
    this.rngs.set(name, rng);
    return rng;
  }

  /** The states of the tree's training-time generators by dotted name (empty when nothing draws while training). */
  randomState(): Record<string, RngState> {
    const out: Record<string, RngState> = {};
    this.walk('', {
      own: (p, m) => {
        for (const [name, rng] of m.rngs) out[join(p, name)] = rng.getState();
      },
    });
    return out;
  }

  /** Continues the training-time generators from {@link Module.randomState}; the names must match the tree's. */
  loadRandomState(states: Record<string, RngState>): void {
    const mine = new Map<string, Rng>();
    this.walk('', {
      own: (p, m) => {
        for (const [name, rng] of m.rngs) mine.set(join(p, name), rng);
      },
    });
    const given = Object.keys(states);
    const missing = [...mine.keys()].filter((k) => !(k in states));
    const unexpected = given.filter((k) => !mine.has(k));
    if (missing.length || unexpected.length) {
      throw new StateDictError(
        `Cannot load the random state into ${this.constructor.name}: ${[
          missing.length ? `missing ${missing.join(', ')}` : '',
          unexpected.length ? `unexpected ${unexpected.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join('; ')}.`,
      );
    }
    const check = new Rng();
    for (const k of mine.keys()) check.setState(states[k]!); // all are valid before any generator moves
    for (const [k, rng] of mine) rng.setState(states[k]!);
  }

  /** Removes a child module (and disposes it unless `dispose` is false). */
  protected unregisterModule(name: string, dispose = true): void {
    const m = this.children.get(name);
    if (m && dispose) m.dispose();
    this.children.delete(name);
  }

  private assertFreeName(name: string): void {
    if (!name || name.includes('.'))
      throw new StateDictError(`Invalid module entry name "${name}": it must be non-empty and contain no ".".`);
    if (this.params.has(name) || this.buffers.has(name) || this.children.has(name)) {
      throw new StateDictError(`"${name}" is already registered on ${this.constructor.name}.`);
    }
  }

  /**
   * Visits the tree depth first in registration order: each of our modules with its dotted path (before its
   * children), each foreign child with its path (not descended into).
   */
  private walk(prefix: string, visit: { own?(prefix: string, m: Module): void; foreign?(prefix: string, m: StatefulModule): void }): void {
    visit.own?.(prefix, this);
    for (const [name, child] of this.children) {
      if (child instanceof Module) child.walk(join(prefix, name), visit);
      else visit.foreign?.(join(prefix, name), child);
    }
  }

  /** Direct children, in registration order. */
  namedChildren(): Map<string, StatefulModule> {
    return new Map(this.children);
  }

  /** Every module of the tree with its dotted path ('' for this one), depth first, in registration order; foreign children are listed, not descended into. */
  namedModules(prefix = ''): Map<string, StatefulModule> {
    const out = new Map<string, StatefulModule>();
    const add = (p: string, m: StatefulModule) => void out.set(p, m);
    this.walk(prefix, { own: add, foreign: add });
    return out;
  }

  /**
   * All parameters (trainable or frozen) by state-dict name. A variable registered under several names (shared
   * parameters) is listed once, under its first name, as PyTorch's `named_parameters()` does.
   */
  namedParameters(prefix = ''): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    const seen = new Set<tf.Variable>();
    for (const [k, v] of this.allParameterEntries(prefix)) {
      if (seen.has(v)) continue;
      seen.add(v);
      out.set(k, v);
    }
    return out;
  }

  /** Every (name, parameter) pair of the tree, shared parameters under each of their names. */
  private allParameterEntries(prefix: string): [string, tf.Variable][] {
    const out: [string, tf.Variable][] = [];
    this.walk(prefix, {
      own: (p, m) => {
        for (const [name, v] of m.params) out.push([join(p, name), v]);
      },
      foreign: (p, m) => {
        for (const [name, v] of m.namedParameters()) out.push([join(p, name), v]);
      },
    });
    return out;
  }

  /** Parameters that currently receive gradients. */
  trainableParameters(): Map<string, tf.Variable> {
    return new Map([...this.namedParameters()].filter(([, v]) => v.trainable));
  }

  /** Buffers of our modules by state-dict name (persistent and not); a foreign child's are in its state dict. */
  namedBuffers(prefix = '', persistentOnly = false): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    this.walk(prefix, {
      own: (p, m) => {
        for (const [name, slot] of m.buffers) if (!persistentOnly || slot.persistent) out.set(join(p, name), slot.variable);
      },
    });
    return out;
  }

  /** Number of scalar parameters (all, or only trainable ones). */
  numParameters(trainableOnly = false): number {
    let n = 0;
    for (const v of this.namedParameters().values()) if (!trainableOnly || v.trainable) n += v.size;
    return n;
  }

  /** Freezes (or unfreezes) every parameter of this module tree. */
  setTrainable(trainable: boolean): this {
    for (const v of this.namedParameters().values()) v.trainable = trainable;
    return this;
  }

  /** State dict in PyTorch order: own parameters, own persistent buffers, then each child's entries. */
  stateDict(): StateDict {
    const out: StateDict = new Map();
    this.walk('', {
      own: (p, m) => {
        for (const [name, v] of m.params) out.set(join(p, name), toStateTensor(v, 'float32'));
        for (const [name, slot] of m.buffers) {
          if (slot.persistent) out.set(join(p, name), toStateTensor(slot.variable, slot.stateDtype));
        }
      },
      foreign: (p, m) => {
        for (const [name, entry] of m.stateDict()) out.set(join(p, name), entry);
      },
    });
    return out;
  }

  /**
   * Loads parameters and persistent buffers by name. Strict by default: missing or unexpected keys and any
   * shape mismatch throw a `StateDictError` listing all problems at once, across the whole tree (a foreign child's
   * entries are checked against its current state dict). Nothing is changed when it throws, unless a foreign child
   * itself refuses entries that passed these checks.
   */
  loadStateDict(stateDict: StateDict, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const targets = new Map<string, tf.Variable>();
    const foreign: { prefix: string; module: StatefulModule; keys: string[] }[] = [];
    const expected = new Map<string, { shape: readonly number[]; size: number }>();
    this.walk('', {
      own: (p, m) => {
        const entries: [string, tf.Variable][] = [
          ...[...m.params].map(([name, v]): [string, tf.Variable] => [name, v]),
          ...[...m.buffers].filter(([, slot]) => slot.persistent).map(([name, slot]): [string, tf.Variable] => [name, slot.variable]),
        ];
        for (const [name, v] of entries) {
          targets.set(join(p, name), v);
          expected.set(join(p, name), { shape: v.shape, size: v.size });
        }
      },
      foreign: (p, m) => {
        const keys: string[] = [];
        for (const [name, entry] of m.stateDict()) {
          keys.push(name);
          expected.set(join(p, name), { shape: entry.shape, size: entry.data.length });
        }
        foreign.push({ prefix: p, module: m, keys });
      },
    });

    const missingKeys = [...expected.keys()].filter((k) => !stateDict.has(k));
    const unexpectedKeys = [...stateDict.keys()].filter((k) => !expected.has(k));
    const mismatches: string[] = [];
    for (const [k, want] of expected) {
      const entry = stateDict.get(k);
      if (!entry) continue;
      if (!sameShape(entry.shape, want.shape)) {
        mismatches.push(`${k}: expected ${formatShape(want.shape)}, got ${formatShape(entry.shape)}`);
      } else if (entry.data.length !== want.size) {
        mismatches.push(`${k}: shape ${formatShape(entry.shape)} needs ${want.size} values, the entry holds ${entry.data.length}`);
      }
    }
    const problems: string[] = [];
    if (mismatches.length) problems.push(`shape mismatches:\n  ${mismatches.join('\n  ')}`);
    if (strict && missingKeys.length) problems.push(`missing keys: ${missingKeys.join(', ')}`);
    if (strict && unexpectedKeys.length) problems.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
    if (problems.length) {
      throw new StateDictError(`Cannot load the state dict into ${this.constructor.name}:\n${problems.join('\n')}`, {
        details: { missingKeys, unexpectedKeys, mismatches },
      });
    }
    // Foreign children first: one that still refuses its entries throws before any of our variables changed.
    for (const { prefix, module, keys } of foreign) {
      const sub: StateDict = new Map();
      for (const key of keys) {
        const entry = stateDict.get(join(prefix, key));
        if (entry) sub.set(key, entry);
      }
      module.loadStateDict(sub, { strict });
    }
    for (const [k, v] of targets) {
      const entry = stateDict.get(k);
      if (!entry) continue;
      tf.tidy(() => v.assign(fromStateTensor(entry, v.dtype)));
    }
    this.walk('', { own: (_p, m) => m.afterLoadStateDict() });
    return { missingKeys, unexpectedKeys };
  }

  /** Hook for modules that cache values derived from their parameters (runs after every successful load of the tree). */
  protected afterLoadStateDict(): void {}

  /** Sets training mode on the whole tree. */
  train(mode = true): this {
    this.walk('', {
      own: (_p, m) => {
        m.isTraining = mode;
      },
      foreign: (_p, m) => void m.train(mode),
    });
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Frees every variable of the tree (foreign children through their `dispose`). The module is unusable afterwards. */
  dispose(): void {
    for (const [name, v] of this.params) if (!this.aliases.has(name)) v.dispose();
    for (const s of this.buffers.values()) s.variable.dispose();
    for (const c of this.children.values()) c.dispose();
    this.params.clear();
    this.aliases.clear();
    this.buffers.clear();
    this.children.clear();
  }
}

/** Whether `m` has the methods of the contracts' `StatefulModule` (the tree calls nothing else on a foreign child). */
function isStatefulModule(m: unknown): m is StatefulModule {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  return ['namedParameters', 'stateDict', 'loadStateDict', 'train', 'eval', 'dispose'].every((k) => typeof o[k] === 'function');
}

function join(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
