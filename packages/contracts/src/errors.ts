/**
 * The error family of @openretina. Every error thrown on purpose by an @openretina package is an
 * `OpenRetinaError` with a stable `code`, so callers can branch on `err.code` instead of parsing messages.
 */

/** Stable error codes. New codes may be added in minor versions; existing ones never change meaning. */
export const ErrorCodes = {
  shape: 'OPENRETINA_SHAPE',
  session: 'OPENRETINA_UNKNOWN_SESSION',
  stateDict: 'OPENRETINA_STATE_DICT',
  config: 'OPENRETINA_CONFIG',
  fileFormat: 'OPENRETINA_FILE_FORMAT',
  data: 'OPENRETINA_DATA',
  backend: 'OPENRETINA_BACKEND',
  download: 'OPENRETINA_DOWNLOAD',
  unsupported: 'OPENRETINA_UNSUPPORTED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface OpenRetinaErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** Machine-readable context (expected and actual shapes, keys, paths, ...). */
  details?: Record<string, unknown>;
}

export class OpenRetinaError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: OpenRetinaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** A tensor or array has the wrong rank or shape. */
export class ShapeError extends OpenRetinaError {
  constructor(message: string, options?: OpenRetinaErrorOptions) {
    super(ErrorCodes.shape, message, options);
  }
}

/** A session (data key) that the model or dataset does not know. */
export class UnknownSessionError extends OpenRetinaError {
  readonly session: string;
  readonly known: readonly string[];

  constructor(session: string, known: readonly string[], options?: OpenRetinaErrorOptions) {
    super(
      ErrorCodes.session,
      `Unknown session "${session}". Known sessions: ${known.length ? known.map((k) => `"${k}"`).join(', ') : '(none)'}.`,
      { ...options, details: { session, known, ...options?.details } },
    );
    this.session = session;
    this.known = known;
  }
}

/** A state dict does not fit the module: missing or unexpected keys, or shape mismatches. */
export class StateDictError extends OpenRetinaError {
  constructor(message: string, options?: OpenRetinaErrorOptions) {
    super(ErrorCodes.stateDict, message, options);
  }
}

/** A configuration key or value is invalid. */
export class ConfigError extends OpenRetinaError {
  constructor(message: string, options?: OpenRetinaErrorOptions) {
    super(ErrorCodes.config, message, options);
  }
}

/** A file is truncated, corrupt, or not in the format it claims to be. */
export class FileFormatError extends OpenRetinaError {
  constructor(message: string, options?: OpenRetinaErrorOptions) {
    super(ErrorCodes.fileFormat, message, options);
  }
}

/** Data values are invalid (NaNs, mismatched lengths, missing stimuli, ...). */
export class DataError extends OpenRetinaError {
  constructor(message: string, options?: OpenRetinaErrorOptions) {
    super(ErrorCodes.data, message, options);
  }
}

/** A compute backend is unavailable or misbehaves. */
export class BackendError extends OpenRetinaError {
  constructor(message: string, options?: OpenRetinaErrorOptions) {
    super(ErrorCodes.backend, message, options);
  }
}

/** A download failed (offline, wrong size, bad checksum, HTTP error). */
export class DownloadError extends OpenRetinaError {
  constructor(message: string, options?: OpenRetinaErrorOptions) {
    super(ErrorCodes.download, message, options);
  }
}

/** A feature or option that exists in OpenRetina but that this port does not support (yet). */
export class UnsupportedError extends OpenRetinaError {
  constructor(message: string, options?: OpenRetinaErrorOptions) {
    super(ErrorCodes.unsupported, message, options);
  }
}

/** True when `error` is an OpenRetinaError (optionally with the given code), also across package copies. */
export function isOpenRetinaError(error: unknown, code?: ErrorCode): error is OpenRetinaError {
  if (typeof error !== 'object' || error === null) return false;
  const c = (error as { code?: unknown }).code;
  if (typeof c !== 'string' || !c.startsWith('OPENRETINA_')) return false;
  return code === undefined || c === code;
}

/** Formats a shape for error messages: `[2, 50, 18, 16, 2]`. */
export function formatShape(shape: readonly (number | null | undefined)[]): string {
  return `[${shape.map((d) => (d == null ? '?' : String(d))).join(', ')}]`;
}
