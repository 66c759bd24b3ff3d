import { z } from 'zod';
import { ConfigError } from '@openretina/contracts';
import { camelCaseOptions, hydraKeys, parseConfig, type CamelCaseOptions } from './config-schema.js';

/** A registered class: the schema of its config section (snake_case keys) and the factory that builds it. */
export interface ComponentEntry<C, R> {
  /** The canonical `_target_` (OpenRetina's class or function path). */
  target: string;
  /** Every `_target_` that selects it (the canonical path, re-export paths, the short class name). */
  aliases: readonly string[];
  /** The section's schema with `_target_` (one literal per alias) and Hydra's keys; strict. */
  schema: z.ZodObject;
  build: (section: Record<string, unknown>, context: C, what: string) => R;
}

/** The `_target_`s of a class: its path, extra paths, and its short name. */
export function targetAliases(target: string, extra: readonly string[] = []): string[] {
  return [...new Set([target, ...extra, target.split('.').pop() ?? target])];
}

/**
 * Classes of one kind (cores, readouts, losses, models) by `_target_`. Each entry's config schema has OpenRetina's
 * snake_case keys; the factory gets them as camelCase options through a typed transform.
 */
export class ComponentRegistry<C, R> {
  private readonly entries = new Map<string, ComponentEntry<C, R>>();

  constructor(
    readonly kind: string,
    /** The target used when a section has no `_target_` (OpenRetina's default class), if any. */
    readonly defaultTarget?: string,
  ) {}

  /**
   * Registers a class: `schema` is a zod object of its snake_case options (without `_target_`); unknown keys are
   * refused. `aliases` are further `_target_` paths (the short class name is always one).
   */
  register<S extends z.ZodObject>(
    target: string,
    schema: S,
    factory: (options: CamelCaseOptions<z.output<S>>, context: C) => R,
    aliases: readonly string[] = [],
  ): void {
    const names = targetAliases(target, aliases);
    const full = schema.extend({ _target_: z.literal(names as [string, ...string[]]), ...hydraKeys }).strict();
    const entry: ComponentEntry<C, R> = {
      target,
      aliases: names,
      schema: full,
      build: (section, context, what) => {
        const rest = withoutHydraKeys(section, what);
        parseConfig(schema.strict(), rest, what); // the errors, unknown keys included
        const options: z.output<S> = schema.parse(rest);
        return factory(camelCaseOptions(options), context);
      },
    };
    for (const name of names) this.entries.set(name, entry);
  }

  /** The entry a `_target_` selects (the default class when absent), or a ConfigError naming the known ones. */
  entry(target: unknown, what: string): ComponentEntry<C, R> {
    const name = target === undefined ? this.defaultTarget : target;
    const found = typeof name === 'string' ? this.entries.get(name) : undefined;
    if (!found) {
      throw new ConfigError(
        `${what}._target_: ${name === undefined ? `a ${this.kind} needs a _target_` : `unknown ${this.kind} ${JSON.stringify(name)}`} (registered: ${this.targets().join(', ')}).`,
      );
    }
    return found;
  }

  /** Builds from a config section (`_target_` selects the class). */
  build(section: Record<string, unknown>, context: C, what: string): R {
    return this.entry(section._target_, what).build(section, context, what);
  }

  /** The canonical targets, sorted. */
  targets(): string[] {
    return [...new Set([...this.entries.values()].map((e) => e.target))].sort();
  }

  /** A discriminated union on `_target_` of every registered class's section schema (for whole-config validation). */
  schema(): z.ZodType<Record<string, unknown>> {
    const options = [...new Set(this.entries.values())].map((e) => e.schema);
    if (options.length === 0) return z.never();
    if (options.length === 1) return options[0]!;
    return z.discriminatedUnion('_target_', options as [z.ZodObject, z.ZodObject, ...z.ZodObject[]]);
  }
}

/** Checks Hydra's keys of a section and returns the rest. */
function withoutHydraKeys(section: Record<string, unknown>, what: string): Record<string, unknown> {
  const { _target_: _t, ...rest } = section;
  parseConfig(z.object(hydraKeys), { _convert_: rest._convert_, _partial_: rest._partial_ }, what);
  delete rest._convert_;
  delete rest._partial_;
  return rest;
}
