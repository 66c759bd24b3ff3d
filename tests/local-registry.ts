// A minimal npm registry on 127.0.0.1: packuments (`GET /<name>`) and tarballs (`GET /<name>/-/<file>.tgz`) from a
// PackageCatalogue. Anything else is a 404 at once, so npm fails fast instead of looking elsewhere.
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CatalogueVersion, PackageCatalogue } from './package-catalogue.js';

export interface LocalRegistry {
  /** Base URL with a trailing slash, for `npm_config_registry`. */
  readonly url: string;
  /** Every request answered 404 (`GET /path`), to tell what npm asked for and did not get. */
  readonly notFound: readonly string[];
  close(): Promise<void>;
}

const PUBLISHED = '2026-01-01T00:00:00.000Z';

export async function startLocalRegistry(catalogue: PackageCatalogue): Promise<LocalRegistry> {
  const notFound: string[] = [];
  const tarballs = new Map<string, CatalogueVersion>();
  let base = '';

  const packument = (name: string) => {
    const versions = catalogue.versions(name);
    if (versions === undefined || versions.size === 0) return undefined;
    const entries: Record<string, unknown> = {};
    for (const [version, entry] of versions) {
      const path = `${name}/-/${name.split('/').pop()}-${version}.tgz`;
      tarballs.set(path, entry);
      const packed = entry.tarball();
      entries[version] = {
        ...entry.manifest,
        _id: `${name}@${version}`,
        dist: packed ? { tarball: `${base}${path}`, integrity: packed.integrity, shasum: packed.shasum } : { tarball: `${base}${path}` },
      };
    }
    const latest = [...versions.keys()].sort(compareVersions).pop()!;
    const time = Object.fromEntries([...versions.keys()].map((v) => [v, PUBLISHED]));
    return { _id: name, name, 'dist-tags': { latest }, versions: entries, time: { created: PUBLISHED, modified: PUBLISHED, ...time } };
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!.slice(1));
    const miss = () => {
      notFound.push(`${req.method} /${path}`);
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
    };
    if (req.method !== 'GET') return miss();
    if (path.includes('/-/')) {
      const file = tarballs.get(path)?.tarball()?.file;
      if (file === undefined) return miss();
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      createReadStream(file).pipe(res);
      return;
    }
    const doc = packument(path);
    if (doc === undefined) return miss();
    // Cacheable for the whole test: one packument fetch per name across all scratch installs sharing an npm cache.
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' }).end(JSON.stringify(doc));
  };

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String((e as Error).stack ?? e));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url: base,
    notFound,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

/** Semver order for `x.y.z[-pre]` (a prerelease sorts before its release). */
function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core = '', pre] = v.split('-', 2);
    return { parts: core.split('.').map(Number), pre };
  };
  const pa = parse(a);
  const pb = parse(b);
  for (let i = 0; i < 3; i++) if (pa.parts[i] !== pb.parts[i]) return (pa.parts[i] ?? 0) - (pb.parts[i] ?? 0);
  if (pa.pre === pb.pre) return 0;
  if (pa.pre === undefined) return 1;
  if (pb.pre === undefined) return -1;
  return pa.pre < pb.pre ? -1 : 1;
}
