// npm package tarballs: a gzipped ustar archive whose entries sit under `package/`. Written here (not with the `tar`
// command) so the packaging test runs wherever Node does and the bytes, hence the integrity, are deterministic.
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

/** What a registry states about a tarball. */
export interface TarballDigest {
  /** Subresource-integrity string (`sha512-<base64>`), what npm verifies. */
  readonly integrity: string;
  /** Hex SHA-1, the legacy `dist.shasum`. */
  readonly shasum: string;
}

const BLOCK = 512;
// npm's own fixed timestamp (1985-10-26): tarballs of the same files are byte-identical.
const MTIME = 499162500;

/** Packs every regular file under `dir` (no symlinks: npm never packs them) into `outFile`. */
export function packDirectory(dir: string, outFile: string): TarballDigest {
  const blocks: Buffer[] = [];
  for (const relative of listFiles(dir)) {
    const full = join(dir, relative);
    const stat = lstatSync(full);
    const data = readFileSync(full);
    const mode = stat.mode & 0o111 ? 0o755 : 0o644;
    blocks.push(...entryBlocks(`package/${relative}`, data, mode));
  }
  blocks.push(Buffer.alloc(2 * BLOCK));
  const gz = gzipSync(Buffer.concat(blocks), { level: 1 });
  writeFileSync(outFile, gz);
  return digest(gz);
}

/** Integrity and shasum of tarball bytes. */
export function digest(bytes: Buffer): TarballDigest {
  return {
    integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
    shasum: createHash('sha1').update(bytes).digest('hex'),
  };
}

/** The files of a `.tgz` (paths as stored, e.g. `package/dist/index.js`) with their contents. */
export function readTarball(file: string): Map<string, Buffer> {
  const tar = gunzipSync(readFileSync(file));
  const files = new Map<string, Buffer>();
  let paxPath: string | undefined;
  for (let at = 0; at + BLOCK <= tar.length; ) {
    const header = tar.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) break;
    const size = Number.parseInt(field(header, 124, 12) || '0', 8);
    const type = String.fromCharCode(header[156] ?? 0);
    const body = tar.subarray(at + BLOCK, at + BLOCK + size);
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
      continue;
    }
    const prefix = field(header, 345, 155);
    const name = paxPath ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    paxPath = undefined;
    if (type === '0' || type === '\0') files.set(name, Buffer.from(body));
  }
  return files;
}

function listFiles(dir: string, sub = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, sub), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const relative = sub ? `${sub}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(dir, relative));
    else if (entry.isFile()) out.push(relative);
  }
  return out;
}

function entryBlocks(path: string, data: Buffer, mode: number): Buffer[] {
  const blocks: Buffer[] = [];
  // Names that do not fit ustar's 100-byte field go in a pax extended header (what npm's own packer does).
  if (Buffer.byteLength(path) > 100) {
    const record = paxRecord('path', path);
    blocks.push(header('PaxHeader', record.length, 0o644, 'x'), padded(record));
  }
  blocks.push(header(path.slice(0, 100), data.length, mode, '0'), padded(data));
  return blocks;
}

function header(name: string, size: number, mode: number, type: string): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 7), 100);
  h.write(octal(0, 7), 108);
  h.write(octal(0, 7), 116);
  h.write(octal(size, 11), 124);
  h.write(octal(MTIME, 11), 136);
  h.write(type, 156);
  h.write('ustar\u000000', 257, 'binary');
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'binary');
  return h;
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body);
  // The record's length counts its own digits.
  while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body);
  return Buffer.from(`${length}${body}`);
}

function padded(data: Buffer): Buffer {
  const rest = data.length % BLOCK;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(BLOCK - rest)]);
}

function octal(value: number, digits: number): string {
  return `${value.toString(8).padStart(digits, '0')}\u0000`;
}

function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}
