import { z } from 'zod';
import { parseConfig } from '@openretina/models';
import type { LazyMovie, LazyResponses, Movie, MovieSplit, ResponseSplit, Responses } from '@openretina/contracts';
import type { ResolveOptions } from '@openretina/data-io/node';

/** Movies and responses per session, as a `data_io` section says (train parts read on demand for a large generic HDF5 dataset). */
export interface ExperimentData {
  movies: Record<string, MovieSplit<Movie | LazyMovie>>;
  responses: Record<string, ResponseSplit<Responses | LazyResponses>>;
  /** Test stimulus names (the test folds of the loaders). */
  testNames: string[];
  /** Closes the files that data read on demand keeps open (a lazily read HDF5 dataset); read nothing after it. */
  close?: () => void;
}

/** What a reader gets besides its section: how to resolve a relative data path, downloads, and a log line. */
export interface ReaderContext {
  resolvePath: (path: string) => string;
  download: ResolveOptions;
  log: (message: string) => void;
  /** A warning for the user (the CLI prints it as a `warning:` line on stderr). */
  warn: (message: string) => void;
}

/**
 * A data reader: the `data_io` section whose `stimuli._target_` / `responses._target_` name OpenRetina's loading
 * functions (and, as aliases, our short names), its schema, and the loader.
 */
export interface DataReader {
  /** The section's `stimuli._target_` (OpenRetina's function path), then its aliases. */
  targets: readonly string[];
  /** Strict schema of the whole `data_io` section. */
  schema: z.ZodType<Record<string, unknown>>;
  read(section: unknown, context: ReaderContext): Promise<ExperimentData>;
}

/** Defines a reader from its schema and a loader typed by it. */
export function defineReader<S extends z.ZodType<Record<string, unknown>>>(
  targets: readonly string[],
  schema: S,
  load: (section: z.output<S>, context: ReaderContext) => Promise<ExperimentData>,
): DataReader {
  return { targets, schema, read: (section, context) => load(parseConfig(schema, section, 'data_io'), context) };
}

/** `_target_` of a function given by its path and our short alias. */
export function functionTarget<const P extends string, const A extends string>(path: P, alias: A) {
  return z.literal([path, alias]);
}

/** Hydra's `_convert_` (how containers are handed over; plain data here whatever the value). */
export const convert = { _convert_: z.enum(['none', 'partial', 'object', 'all']).optional() };

/** `data_io.data_info`: entries merged into the data info (OpenRetina's partial_data_info), e.g. rates and pixel size. */
export const dataInfoSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional();

/** The test names shared by every session's responses. */
export function testNamesOf(responses: Readonly<Record<string, ResponseSplit<Responses | LazyResponses>>>): string[] {
  return [...new Set(Object.values(responses).flatMap((r) => Object.keys(r.test)))].sort();
}
