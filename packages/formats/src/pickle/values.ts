/*
 * The inert values a pickle turns into (and that the writer writes back): Python globals, tuples, dicts, sets, bytes
 * and the record of a call. They hold data only; nothing on them can run Python code.
 */

/** A reference to a Python global (`module.name`). Inert. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get path(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A Python tuple. */
export class PyTuple {
  constructor(readonly items: readonly unknown[]) {}
}

/** A Python dict (insertion-ordered, keys of any type). */
export class PyDict {
  readonly map = new Map<unknown, unknown>();
  /** Instance attributes set by BUILD (e.g. an OrderedDict state dict's `_metadata`); never items. */
  attributes: unknown = undefined;
}

/** A Python set / frozenset. */
export class PySet {
  readonly items: unknown[] = [];
}

/** Python `bytes` / `bytearray`. */
export class PyBytes {
  constructor(readonly bytes: Uint8Array) {}
}

/**
 * An object the pickle asked to create by calling a class or function that has no recogniser: inert, it only
 * records what would have been called (`callable`), with which arguments, and the state `BUILD` gave it.
 */
export class PyObject {
  /** Set by BUILD (never applied through `__setstate__`). */
  state: unknown = undefined;
  /** Items added by SETITEM(S) (dict subclasses). */
  readonly dictItems = new Map<unknown, unknown>();
  /** Items added by APPEND(S) (list subclasses). */
  readonly listItems: unknown[] = [];
  constructor(
    readonly callable: PyGlobal | unknown,
    readonly args: readonly unknown[],
    readonly how: 'reduce' | 'newobj' | 'inst' | 'obj',
  ) {}
  /** `module.name` of the callable when it is a global. */
  get className(): string | undefined {
    return this.callable instanceof PyGlobal ? this.callable.path : undefined;
  }
}
