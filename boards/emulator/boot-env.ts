/**
 * The emulated board's boot environment on "flash" (docs/flashing.md §6): `bootenv.bin`, two fixed-size
 * records written in place, alternately, like U-Boot's redundant environment (CONFIG_ENV_OFFSET_REDUND).
 *
 *   record = "IENV" || u32 sequence || u32 length || u32 CRC-32(sequence || length || body) || body || zeros
 *
 * big-endian, RECORD_BYTES each, record k at offset k * RECORD_BYTES; the body is the environment as UTF-8
 * JSON. A write goes to the record not holding the newest sequence, as one pwrite of the whole record and
 * an fdatasync: the newest record is untouched until the new one is whole on flash, and a write torn by a
 * power loss fails its CRC, so a power-on reads the newest whole record. The file's size never changes
 * after provisioning, so fdatasync flushes the data alone.
 *
 * This replaced rewriting bootenv.json (write a temporary file, fsync, rename): 0.27-0.31 ms per write against
 * 0.56-0.57 ms (medians of 200 alternating writes, three runs, on this machine), and a rename is not durable
 * until the directory is fsynced too, which that code did not do.
 */
import { closeSync, fdatasyncSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { crc32 } from '../../core/serial-protocol.js';

export const BOOT_ENV_FILE = 'bootenv.bin';
/** Each of the two records; the environment's JSON is ~1-1.5 KB. */
export const RECORD_BYTES = 4096;
const HEADER_BYTES = 16;
const MAGIC = 0x49454e56; // "IENV"

export class BootEnvError extends Error {}

export interface BootEnvRecord {
  readonly sequence: number;
  readonly body: string;
}

/** Record `k` of `file` if it is whole (magic, length, CRC), else null. */
export function decodeRecord(file: Uint8Array, k: 0 | 1): BootEnvRecord | null {
  const at = k * RECORD_BYTES;
  if (file.length < at + RECORD_BYTES) return null;
  const view = new DataView(file.buffer, file.byteOffset + at, RECORD_BYTES);
  if (view.getUint32(0) !== MAGIC) return null;
  const sequence = view.getUint32(4);
  const length = view.getUint32(8);
  if (length > RECORD_BYTES - HEADER_BYTES) return null;
  const covered = file.subarray(at + 4, at + 12);
  const body = file.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length);
  if (crc32(body, crc32(covered)) !== view.getUint32(12)) return null;
  return { sequence, body: new TextDecoder('utf-8', { fatal: false }).decode(body) };
}

export function encodeRecord(sequence: number, body: string): Uint8Array {
  const bytes = new TextEncoder().encode(body);
  if (bytes.length > RECORD_BYTES - HEADER_BYTES) {
    throw new BootEnvError(
      `boot environment of ${bytes.length} bytes does not fit a ${RECORD_BYTES}-byte record`,
    );
  }
  const out = new Uint8Array(RECORD_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC);
  view.setUint32(4, sequence >>> 0);
  view.setUint32(8, bytes.length);
  out.set(bytes, HEADER_BYTES);
  view.setUint32(12, crc32(bytes, crc32(out.subarray(4, 12))));
  return out;
}

/** The newest whole record of a bootenv.bin's bytes, or null when neither is whole. */
export function newestRecord(file: Uint8Array): (BootEnvRecord & { readonly index: 0 | 1 }) | null {
  const a = decodeRecord(file, 0);
  const b = decodeRecord(file, 1);
  // Serial-number order (RFC 1982): correct across the u32 wrap, as long as the two are within 2^31.
  if (a && (!b || (a.sequence - b.sequence) >>> 0 < 0x8000_0000)) return { ...a, index: 0 };
  if (b) return { ...b, index: 1 };
  return null;
}

/** The newest whole record of the bootenv.bin at `path`; a BootEnvError when neither is whole. */
function readNewest(path: string): BootEnvRecord & { readonly index: 0 | 1 } {
  const newest = newestRecord(new Uint8Array(readFileSync(path)));
  if (!newest) throw new BootEnvError(`${path}: neither boot environment record is whole`);
  return newest;
}

/** bootenv.bin, open for in-place writes. */
export class BootEnvFile {
  private constructor(
    readonly path: string,
    private fd: number,
    private sequence: number,
    /** The record the next write goes to: the older one. */
    private next: 0 | 1,
    /** The body of the newest record (as read, or as last written). */
    public body: string,
  ) {}

  /**
   * A new bootenv.bin holding `body` (provisioning, or moving a bootenv.json over): both records written, the
   * file and its directory synced, then renamed into place, so a power loss leaves either no file or a whole one.
   */
  static create(path: string, body: string): BootEnvFile {
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, encodeRecord(1, body));
      writeSync(fd, new Uint8Array(RECORD_BYTES));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    syncDir(dirname(path));
    return new BootEnvFile(path, openSync(path, 'r+'), 1, 1, body);
  }

  /** Opens an existing bootenv.bin; a BootEnvError when neither record is whole. */
  static open(path: string): BootEnvFile {
    const newest = readNewest(path);
    return new BootEnvFile(
      path,
      openSync(path, 'r+'),
      newest.sequence,
      newest.index === 0 ? 1 : 0,
      newest.body,
    );
  }

  /** Writes `body` over the older record and makes it durable (pwrite + fdatasync, on the calling thread). */
  write(body: string): void {
    const sequence = (this.sequence + 1) >>> 0;
    writeSync(this.fd, encodeRecord(sequence, body), 0, RECORD_BYTES, this.next * RECORD_BYTES);
    fdatasyncSync(this.fd);
    this.sequence = sequence;
    this.next = this.next === 0 ? 1 : 0;
    this.body = body;
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The environment's JSON a power-on of the board in `dir` would read (for tests and tools). */
export function readBootEnvBody(dir: string): string {
  return readNewest(join(dir, BOOT_ENV_FILE)).body;
}
