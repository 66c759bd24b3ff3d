// `npm install` into a scratch project as a user would (install scripts on, npm's default peer handling), but
// against the local registry only and with every proxy route dead, so an install script that downloads fails.
import { execFile } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Nothing listens on the discard port: a request through this "proxy" is refused at once. */
const DEAD_PROXY = 'http://127.0.0.1:9';

/**
 * The environment for npm and the scripts it runs: the local registry, a given cache, no user or global npmrc, no
 * audit/fund/update checks, and HTTP(S) proxies (npm's, Node's own with NODE_USE_ENV_PROXY, global-agent's, which
 * onnxruntime-node's installer uses) that refuse every connection except to 127.0.0.1.
 */
export function offlineNpmEnv(registryUrl: string, cacheDir: string, configDir: string): NodeJS.ProcessEnv {
  mkdirSync(configDir, { recursive: true });
  // Empty user and global npmrc (two files: npm refuses to load one file twice).
  writeFileSync(join(configDir, 'user.npmrc'), '');
  writeFileSync(join(configDir, 'global.npmrc'), '');
  const inherited = Object.fromEntries(
    // pnpm hands its own settings to scripts as npm_config_*; they must not leak into this npm.
    Object.entries(process.env).filter(([key]) => !/^(npm_|pnpm_)/i.test(key) && !/_proxy$/i.test(key)),
  );
  return {
    ...inherited,
    npm_config_registry: registryUrl,
    npm_config_cache: cacheDir,
    npm_config_userconfig: join(configDir, 'user.npmrc'),
    npm_config_globalconfig: join(configDir, 'global.npmrc'),
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_loglevel: 'error',
    HTTP_PROXY: DEAD_PROXY,
    HTTPS_PROXY: DEAD_PROXY,
    http_proxy: DEAD_PROXY,
    https_proxy: DEAD_PROXY,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    NODE_USE_ENV_PROXY: '1',
    GLOBAL_AGENT_HTTP_PROXY: DEAD_PROXY,
    GLOBAL_AGENT_HTTPS_PROXY: DEAD_PROXY,
    GLOBAL_AGENT_NO_PROXY: '127.0.0.1,localhost',
  };
}

export interface InstallOutcome {
  readonly ok: boolean;
  /** npm's output (stdout and stderr), for the failure message. */
  readonly log: string;
}

/** `npm install <specs>` in `dir` (a fresh project with an empty package.json is created there first). */
export async function npmInstall(dir: string, specs: readonly string[], env: NodeJS.ProcessEnv): Promise<InstallOutcome> {
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'scratch', version: '1.0.0', private: true }, null, 2)}\n`);
  try {
    const { stdout, stderr } = await run('npm', ['install', ...specs], { cwd: dir, env, maxBuffer: 64 << 20 });
    return { ok: true, log: stdout + stderr };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    return { ok: false, log: `${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

/** Names of the installed packages (npm's hidden lockfile lists every one, nested copies included). */
export function installedPackages(dir: string): string[] {
  const lock = JSON.parse(readFileSync(join(dir, 'node_modules', '.package-lock.json'), 'utf8')) as {
    packages: Record<string, { link?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path.startsWith('node_modules/') && !entry.link)
    .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
}

/** Bytes of every file under `dir` (apparent size, symlinks not followed). */
export function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) total += treeBytes(full);
    else if (entry.isFile()) total += lstatSync(full).size;
  }
  return total;
}

/** Runs `node` with `args` in `dir`; resolves to stdout, rejects with stderr in the message. */
export async function nodeIn(dir: string, args: readonly string[]): Promise<string> {
  try {
    return (await run('node', args, { cwd: dir, encoding: 'utf8', maxBuffer: 16 << 20 })).stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`node ${args.join(' ')} failed in ${dir}:\n${err.stderr ?? err.message}`);
  }
}
