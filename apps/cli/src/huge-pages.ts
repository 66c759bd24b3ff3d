// Huge pages for the heavy commands: glibc's malloc asks the kernel for transparent huge pages (2 MB) for its blocks
// when GLIBC_TUNABLES holds `glibc.malloc.hugetlb=1`. ONNX Runtime's buffers, the outputs it hands to JavaScript and
// V8's array buffers all come from malloc, and a run touches most of them for the first time: a 4-epoch bundled
// `openretina train` took ~124 k page faults with 4 kB pages and ~30 k with this setting, 3.3–3.6 s against 3.0–3.3
// (bench/ANALYSIS.md, round seven). glibc reads the variable when a process starts, so the bin starts itself again with
// it (`process.execve`, Node ≥ 22.15: the same process id, arguments and streams) before it loads anything else.
import { readFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

/** The commands that allocate enough to gain (the others would only pay for a second start of Node, ~40–70 ms). */
const HEAVY_COMMANDS = new Set(['train', 'eval', 'predict', 'export', 'mei', 'visualize', 'sweep', 'worker', 'create-data']);

/** The kernel's transparent-huge-page mode (`always`, `madvise` or `never`), or undefined where it cannot be read. */
export function transparentHugePageMode(): string | undefined {
  try {
    // "always [madvise] never": the selected mode is in brackets
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * The GLIBC_TUNABLES value to start with, or undefined where nothing should change: not Linux, no transparent huge
 * pages (`never` or unreadable), `OPENRETINA_HUGE_PAGES=0`, or a GLIBC_TUNABLES that already decides
 * `glibc.malloc.hugetlb` (the user's choice stands; it also ends the relaunch). Other tunables are kept.
 */
export function hugePageTunables(
  env: Readonly<Record<string, string | undefined>>,
  platform: string,
  thpMode: string | undefined,
): string | undefined {
  if (platform !== 'linux' || env.OPENRETINA_HUGE_PAGES === '0') return undefined;
  if (thpMode !== 'always' && thpMode !== 'madvise') return undefined;
  const current = env.GLIBC_TUNABLES ?? '';
  if (/(^|:)glibc\.malloc\.hugetlb=/.test(current)) return undefined;
  return current ? `${current}:glibc.malloc.hugetlb=1` : 'glibc.malloc.hugetlb=1';
}

/** Whether `openretina ARGS` runs a heavy command (the command is the first argument other than `--debug`). */
export function isHeavyCommand(args: readonly string[]): boolean {
  const [command, ...rest] = args.filter((a) => a !== '--debug');
  return command !== undefined && HEAVY_COMMANDS.has(command) && !rest.includes('--help') && !rest.includes('-h');
}

/**
 * Starts this process again with huge pages for malloc ({@link hugePageTunables}) when `args` (the CLI's arguments)
 * run a heavy command and Node can replace its own process; otherwise returns and nothing changes. Call it first
 * thing: it does not return when it relaunches.
 */
export function relaunchWithHugePages(args: readonly string[] = process.argv.slice(2)): void {
  const execve = (process as { execve?: (file: string, args: string[], env: Record<string, string | undefined>) => never }).execve;
  if (typeof execve !== 'function' || !isMainThread || !isHeavyCommand(args)) return;
  const tunables = hugePageTunables(process.env, process.platform, transparentHugePageMode());
  if (tunables === undefined) return;
  try {
    execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      ...process.env,
      GLIBC_TUNABLES: tunables,
    });
  } catch {
    // the run goes on with 4 kB pages
  }
}
