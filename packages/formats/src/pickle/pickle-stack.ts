/*
 * The unpickler's working memory: the value stack, the MARK-separated frames above it and the memo. The opcode loop
 * (unpickle.ts) only pushes and pops through here, so that every underflow, stray MARK and missing memo entry is one
 * check in one place.
 */

/** Reports a malformed pickle at byte `at` (the reader's `fail`). */
export type PickleFail = (msg: string, at: number) => never;

const MARK = Symbol('mark');

/** Stack, marks and memo of one unpickling. */
export class PickleStack {
  private current: unknown[] = [];
  private readonly metastack: unknown[][] = [];
  private readonly memo = new Map<number, unknown>();

  constructor(
    private readonly fail: PickleFail,
    /** Maximum number of memo entries. */
    private readonly maxMemo: number,
  ) {}

  /** True when no MARK is open (a complete pickle ends so). */
  get balanced(): boolean {
    return this.metastack.length === 0;
  }
  /** Number of memo entries (MEMOIZE's next index). */
  get memoSize(): number {
    return this.memo.size;
  }
  /** True when the current frame is empty. */
  get frameEmpty(): boolean {
    return this.current.length === 0;
  }

  push(v: unknown): void {
    this.current.push(v);
  }
  pop(at: number): unknown {
    if (this.current.length === 0) this.fail('stack underflow', at);
    const v = this.current.pop();
    if (v === MARK) this.fail('unexpected MARK on the stack', at);
    return v;
  }
  top(at: number): unknown {
    if (this.current.length === 0) this.fail('stack underflow', at);
    return this.current[this.current.length - 1];
  }
  /** MARK: opens a new frame. */
  mark(): void {
    this.metastack.push(this.current);
    this.current = [];
  }
  /** Closes the innermost frame and returns its items. */
  popMark(at: number): unknown[] {
    const items = this.current;
    const prev = this.metastack.pop();
    if (prev === undefined) this.fail('MARK expected', at);
    this.current = prev!;
    if (items.includes(MARK)) this.fail('nested MARK', at);
    return items;
  }
  /** Memoises the top of the stack under `idx`. */
  put(idx: number, at: number): void {
    if (!Number.isSafeInteger(idx) || idx < 0) this.fail(`invalid memo index ${idx}`, at);
    if (this.memo.size >= this.maxMemo && !this.memo.has(idx)) this.fail(`more than ${this.maxMemo} memo entries`, at);
    this.memo.set(idx, this.top(at));
  }
  /** Pushes the memo entry `idx`. */
  get(idx: number, at: number): void {
    if (!this.memo.has(idx)) this.fail(`memo entry ${idx} is missing`, at);
    this.push(this.memo.get(idx));
  }
}
