// Validation of OpenRetina-style config sections with zod: snake_case keys in, camelCase options out, and errors
// that name the key path, the accepted keys (for an unknown key) or the accepted `_target_`s.
import { z } from 'zod';
import { ConfigError } from '@openretina/contracts';

/** `temporal_kernel_sizes` → `temporalKernelSizes` (as a type). */
export type SnakeToCamel<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<SnakeToCamel<T>>}` : S;

type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
type OptionalKeys<T> = Exclude<keyof T, RequiredKeys<T>>;

/** An object with snake_case keys as our camelCase options (optional keys stay optional, without `undefined`). */
export type CamelCaseOptions<T> = { [K in RequiredKeys<T> as SnakeToCamel<K & string>]: T[K] } & {
  [K in OptionalKeys<T> as SnakeToCamel<K & string>]?: Exclude<T[K], undefined>;
};

/** `temporal_kernel_sizes` → `temporalKernelSizes`. */
export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/gi, (_, c: string) => c.toUpperCase());
}

/**
 * Renames the keys of a validated config section to our option names, dropping Hydra's own keys (`_target_`,
 * `_convert_`, `_partial_`) and keys whose value is undefined.
 */
export function camelCaseOptions<T extends object>(section: T): CamelCaseOptions<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(section)) {
    if (value === undefined || /^_.*_$/.test(key)) continue;
    out[snakeToCamel(key)] = value;
  }
  return out as CamelCaseOptions<T>;
}

/**
 * Hydra's instantiation keys, accepted beside a `_target_`: `_convert_` only decides how Hydra hands containers
 * to the callee (plain data here, whatever the value); `_partial_` is refused where we call the target at once.
 */
export const hydraKeys = {
  _convert_: z.enum(['none', 'partial', 'object', 'all']).optional(),
  _partial_: z.literal(false, { error: '_partial_: true (instantiate later) is not supported here' }).optional(),
};

type Def = { type: string; [key: string]: unknown };
const defOf = (s: unknown): Def | undefined => (s as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/** The object schemas a value at `path` may meet (unwrapping optionals, pipes, lazies, unions, arrays, records). */
function schemasAt(schema: unknown, path: readonly PropertyKey[], input: unknown): Def[] {
  const def = defOf(schema);
  if (!def) return [];
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return schemasAt(def.innerType, path, input);
    case 'pipe':
      return schemasAt(def.in, path, input);
    case 'lazy':
      return schemasAt((def.getter as () => unknown)(), path, input);
    case 'union': {
      const options = def.options as unknown[];
      const disc = def.discriminator as string | undefined;
      const picked =
        disc && input && typeof input === 'object'
          ? options.filter((o) => targetsOf(o, disc).includes(String((input as Record<string, unknown>)[disc])))
          : [];
      return (picked.length ? picked : options).flatMap((o) => schemasAt(o, path, input));
    }
    case 'object': {
      if (path.length === 0) return [def];
      const [head, ...rest] = path;
      const child = (def.shape as Record<string, unknown>)[String(head)];
      const sub = input && typeof input === 'object' ? (input as Record<string, unknown>)[String(head)] : undefined;
      return child ? schemasAt(child, rest, sub) : [];
    }
    case 'array':
    case 'record': {
      if (path.length === 0) return [];
      const [head, ...rest] = path;
      const sub = input && typeof input === 'object' ? (input as Record<string, unknown>)[String(head)] : undefined;
      return schemasAt(def.type === 'array' ? def.element : def.valueType, rest, sub);
    }
    default:
      return [];
  }
}

/** The literal values a union option's discriminator accepts. */
function targetsOf(option: unknown, key: string): string[] {
  const def = defOf(option);
  if (!def) return [];
  if (def.type === 'pipe') return targetsOf(def.in, key);
  if (def.type === 'object') {
    const d = defOf((def.shape as Record<string, unknown>)[key]);
    if (d?.type === 'literal') return (d.values as unknown[]).map(String);
    if (d?.type === 'enum') return Object.values(d.entries as Record<string, unknown>).map(String);
  }
  if (def.type === 'union') return (def.options as unknown[]).flatMap((o) => targetsOf(o, key));
  return [];
}

/** One readable line per problem: `model.core.gamma_input: expected number, got string`. */
export function describeIssues(schema: z.ZodType, input: unknown, issues: readonly z.core.$ZodIssue[], prefix = ''): string[] {
  const join = (path: readonly PropertyKey[]) => [prefix, ...path.map(String)].filter(Boolean).join('.') || '(top level)';
  return issues.flatMap((issue) => {
    const where = join(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const accepted = [...new Set(schemasAt(schema, issue.path, input).flatMap((d) => Object.keys(d.shape as object)))];
      return issue.keys.map(
        (k) =>
          `${join([...issue.path, k])}: unknown key "${k}"${accepted.length ? ` (accepted keys of ${where}: ${accepted.join(', ')})` : ''}`,
      );
    }
    if (issue.code === 'invalid_union') {
      const { discriminator, options } = issue as { discriminator?: string; options?: unknown[] };
      if (discriminator && options) {
        const got = issue.path.reduce<unknown>(
          (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[String(k)] : undefined),
          input,
        );
        return [
          `${where}: ${got === undefined ? 'missing' : `unknown ${discriminator} ${JSON.stringify(got)}`} (accepted: ${options.map(String).join(', ')})`,
        ];
      }
      const nested = issue.errors.flat();
      if (nested.length)
        return describeIssues(
          schema,
          input,
          nested.map((i) => ({ ...i, path: [...issue.path, ...i.path] })),
          prefix,
        );
    }
    return [`${where}: ${issue.message}`];
  });
}

/**
 * Validates a config section against its schema; on failure a `ConfigError` lists every problem with its key path
 * (`what` prefixes the paths, e.g. `model.core`).
 */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, what = ''): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = describeIssues(schema, input, result.error.issues, what);
  throw new ConfigError(`Invalid config${what ? ` (${what})` : ''}:\n  ${problems.join('\n  ')}`, { details: { problems } });
}
