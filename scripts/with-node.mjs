#!/usr/bin/env node
// Runs a command with a given Node.js major version first on PATH:
//
//   node scripts/with-node.mjs 24 -- pnpm test
//
// The binary comes from the npm registry package `node-<os>-<arch>@<major>` (the newest release of that line),
// fetched once with `npm pack` into .cache/node/<version>/ (gitignored) and reused afterwards; without a network
// the newest cached release of the line is used. Everything the command starts through PATH (pnpm, turbo, vitest,
// npm and the tests' own `node` calls) runs on that Node. Written for any Node the machine may have (>= 18).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheRoot = join(root, '.cache', 'node');

function fail(message) {
  console.error(`with-node: ${message}`);
  process.exit(2);
}

/** The registry package with this machine's Node binary (linux and macOS: `bin/node` inside). */
function platformPackage() {
  const os = { linux: 'linux', darwin: 'darwin' }[process.platform];
  if (os === undefined) fail(`no node-<os>-<arch> package layout known for ${process.platform}`);
  return `node-${os}-${process.arch}`;
}

function compareVersions(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

/** Newest published `<major>.x.y`, or the newest cached one when the registry cannot be asked. */
function resolveVersion(pkg, major) {
  try {
    const out = execFileSync('npm', ['view', `${pkg}@${major}`, 'version', '--json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const versions = [JSON.parse(out)].flat().filter((v) => /^\d+\.\d+\.\d+$/.test(v));
    if (versions.length > 0) return versions.sort(compareVersions).pop();
  } catch (e) {
    const cached = existsSync(cacheRoot)
      ? readdirSync(cacheRoot).filter((v) => v.startsWith(`${major}.`) && existsSync(nodeBinary(v)))
      : [];
    if (cached.length > 0) return cached.sort(compareVersions).pop();
    const why = `${e.stderr || e.message}`.split('\n').find((line) => line.trim() !== '');
    fail(`the npm registry gave no ${pkg}@${major} and none is cached (${why})`);
  }
  fail(`the npm registry has no ${pkg}@${major}`);
}

function nodeBinary(version) {
  return join(cacheRoot, version, 'bin', 'node');
}

/** Fetches `pkg@version` and keeps its `bin/node`; the directory appears only when complete. */
function install(pkg, version) {
  mkdirSync(cacheRoot, { recursive: true });
  const scratch = mkdtempSync(join(cacheRoot, `.fetch-${version}-`));
  try {
    console.error(`with-node: fetching ${pkg}@${version} from the npm registry`);
    const out = execFileSync('npm', ['pack', `${pkg}@${version}`, '--json', '--pack-destination', scratch], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const tarball = join(scratch, JSON.parse(out)[0].filename);
    const unpacked = join(scratch, 'unpacked');
    mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1', 'package/bin/node']);
    try {
      renameSync(unpacked, join(cacheRoot, version));
    } catch (e) {
      if (!existsSync(nodeBinary(version))) throw e; // else another run cached the same version meanwhile
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
const separator = args.indexOf('--');
const major = args[0];
if (separator !== 1 || !/^\d+$/.test(major ?? '') || args.length < 3) {
  fail('usage: node scripts/with-node.mjs <major> -- <command> [args...]');
}
const pkg = platformPackage();
const version = resolveVersion(pkg, major);
if (!existsSync(nodeBinary(version))) install(pkg, version);
const node = nodeBinary(version);
const reported = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
if (reported !== `v${version}`) fail(`${relative(root, node)} reports ${reported}, expected v${version}`);
console.error(`with-node: Node ${reported} (${relative(root, node)}) for: ${args.slice(2).join(' ')}`);

const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}`, npm_node_execpath: node, NODE: node };
const child = spawn(args[2], args.slice(3), { stdio: 'inherit', env });
child.on('error', (e) => fail(`cannot run ${args[2]}: ${e.message}`));
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
