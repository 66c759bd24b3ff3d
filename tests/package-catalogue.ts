// What the local registry serves: our publishable packages packed with `pnpm pack`, and every third-party package
// they need, packed from the copy pnpm installed in this workspace (so the test never touches the network).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { digest, packDirectory, readTarball, type TarballDigest } from './npm-tarball.js';

/** A package.json, as far as the packaging test reads it. */
export interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly private?: boolean;
  readonly exports?: Record<string, unknown>;
  readonly bin?: string | Record<string, string>;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  readonly [field: string]: unknown;
}

/** One version the registry lists; `tarball` packs on first use (undefined: listed but not downloadable). */
export interface CatalogueVersion {
  readonly manifest: Manifest;
  readonly tarball: () => (TarballDigest & { file: string }) | undefined;
}

/** A workspace package that is published (not `private`), packed. */
export interface PackedPackage {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly tarball: string;
}

export function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** Every non-private package under packages/ and apps/ (new packages are covered when they land). */
export function publishableDirs(root: string): string[] {
  return ['packages', 'apps']
    .flatMap((group) => readdirSync(join(root, group)).map((name) => join(root, group, name)))
    .filter((dir) => existsSync(join(dir, 'package.json')) && !readManifest(dir).private)
    .sort();
}

/** `pnpm pack` (rewrites `workspace:` ranges to versions) into `dest`; the manifest is the packed one. */
export function packWorkspacePackage(dir: string, dest: string): PackedPackage {
  const out = execFileSync('pnpm', ['pack', '--json', '--pack-destination', dest], { cwd: dir, encoding: 'utf8' });
  const tarball = (JSON.parse(out) as { filename: string }).filename;
  const packedJson = readTarball(tarball).get('package/package.json');
  if (!packedJson) throw new Error(`${tarball} has no package/package.json`);
  return { dir, manifest: JSON.parse(packedJson.toString('utf8')) as Manifest, tarball };
}

/** Registry contents, by package name. */
export class PackageCatalogue {
  private readonly byName = new Map<string, Map<string, CatalogueVersion>>();

  constructor(private readonly tarballDir: string) {
    mkdirSync(tarballDir, { recursive: true });
  }

  versions(name: string): ReadonlyMap<string, CatalogueVersion> | undefined {
    return this.byName.get(name);
  }

  /** Names that some listed package declares as an optional peer (npm looks them up, needs none of them). */
  optionalPeers(): Set<string> {
    const names = new Set<string>();
    for (const versions of this.byName.values()) {
      for (const { manifest } of versions.values()) {
        for (const [name, meta] of Object.entries(manifest.peerDependenciesMeta ?? {})) if (meta.optional) names.add(name);
      }
    }
    return names;
  }

  /** Our own packed tarball. */
  addPacked(packed: PackedPackage): void {
    const tarball = { file: packed.tarball, ...digest(readFileSync(packed.tarball)) };
    this.add(packed.manifest, () => tarball);
  }

  /**
   * Third-party packages reachable from `requirers` through dependencies, optional dependencies and non-optional
   * peers (what npm installs by default), as pnpm resolved them here; a requirer's `names` (default: what its
   * package.json asks for) start the walk. Optional dependencies pnpm did not install (other platforms' binaries)
   * are listed with the `os`/`cpu`/`libc` that `pnpm-lock.yaml` records and no tarball: npm skips them on this
   * platform, as it does with the public registry.
   */
  addThirdPartyClosure(requirers: readonly { dir: string; names?: readonly string[] }[], lockfile: string): void {
    const platforms = lockfilePlatforms(lockfile);
    const seen = new Set<string>();
    const queue = [...requirers];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      for (const name of next.names ?? installedNeeds(readManifest(next.dir))) {
        if (name.startsWith('@openretina/')) continue;
        const found = resolvePackageDir(next.dir, name);
        if (found === undefined) {
          for (const [version, platform] of platforms.get(name) ?? []) {
            if (!this.byName.get(name)?.has(version)) this.add({ name, version, ...platform }, () => undefined);
          }
          continue;
        }
        if (seen.has(found)) continue;
        seen.add(found);
        queue.push({ dir: found });
        const { devDependencies: _dev, ...thirdParty } = readManifest(found);
        const file = join(this.tarballDir, `${thirdParty.name.replace('/', '+')}-${thirdParty.version}.tgz`);
        let packed: (TarballDigest & { file: string }) | undefined;
        this.add(thirdParty, () => {
          packed ??= { file, ...packDirectory(found, file) };
          return packed;
        });
      }
    }
  }

  private add(manifest: Manifest, tarball: CatalogueVersion['tarball']): void {
    const versions = this.byName.get(manifest.name) ?? new Map<string, CatalogueVersion>();
    this.byName.set(manifest.name, versions);
    versions.set(manifest.version, { manifest, tarball });
  }
}

/** What npm installs for a package by default: dependencies, optional dependencies, non-optional peers. */
function installedNeeds(manifest: Manifest): string[] {
  const optionalPeers = new Set(
    Object.keys(manifest.peerDependenciesMeta ?? {}).filter((d) => manifest.peerDependenciesMeta?.[d]?.optional),
  );
  return [
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}).filter((d) => !optionalPeers.has(d)),
  ];
}

/** Node's resolution of `name` from `dir` (pnpm links each dependency next to the package that needs it). */
function resolvePackageDir(dir: string, name: string): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(at) === at) return undefined;
  }
}

type Platform = { os?: string[]; cpu?: string[]; libc?: string[] };

/** `os`/`cpu`/`libc` of the platform-specific packages in the lockfile's `packages:` section, by name and version. */
function lockfilePlatforms(lockfile: string): Map<string, Map<string, Platform>> {
  const result = new Map<string, Map<string, Platform>>();
  const lines = readFileSync(lockfile, 'utf8').split('\n');
  const start = lines.indexOf('packages:');
  let current: { name: string; version: string; platform: Platform } | undefined;
  const flush = () => {
    if (current && Object.keys(current.platform).length > 0) {
      const versions = result.get(current.name) ?? new Map<string, Platform>();
      result.set(current.name, versions);
      versions.set(current.version, current.platform);
    }
  };
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break; // the next top-level section
    const key = /^ {2}'?((?:@[^/]+\/)?[^@']+)@([^(':]+)'?:/.exec(line);
    if (key) {
      flush();
      current = { name: key[1]!, version: key[2]!, platform: {} };
      continue;
    }
    const field = /^ {4}(os|cpu|libc): \[(.*)\]$/.exec(line);
    if (field && current) current.platform[field[1] as keyof Platform] = field[2]!.split(',').map((v) => v.trim().replace(/^'|'$/g, ''));
  }
  flush();
  return result;
}
