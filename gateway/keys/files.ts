/**
 * File helpers shared by the CLI commands: writes that never clobber by accident and never leave a
 * half-written file behind, and the "hex or binary, file or argument" input rule of `iosnet decode`.
 */

import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { IosnetError } from '../../core/errors.js';

/** Inputs above this are refused before reading (a block is at most 8 MiB, 16 MiB as hex text). */
export const MAX_INPUT_FILE_BYTES = 20 * 1024 * 1024;

export interface WriteOptions {
  /** File mode of a newly created file (0o600 for secrets). */
  readonly mode: number;
  /** Replace an existing file (atomically: temp file + rename). */
  readonly force: boolean;
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
  fsyncSync(fd);
}

/** Creates `path` with exactly `data`. Without force an existing file is an error (FILE_EXISTS). */
export function writeNewFile(path: string, data: Uint8Array | string, opts: WriteOptions): void {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  // 'wx' creates with O_EXCL: the mode applies from the first byte, and an existing file is never reused
  // (a pre-created world-readable file would otherwise keep its mode and receive the secret).
  const target = opts.force
    ? join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
    : path;
  let fd: number;
  try {
    fd = openSync(target, 'wx', opts.mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new IosnetError('FILE_EXISTS', `${path} already exists (use --force to replace it)`, { path });
    }
    throw err;
  }
  try {
    writeAll(fd, bytes);
  } catch (err) {
    closeSync(fd);
    unlinkSync(target);
    throw err;
  }
  closeSync(fd);
  if (target !== path) {
    try {
      renameSync(target, path);
    } catch (err) {
      unlinkSync(target);
      throw err;
    }
  }
}

/** Whether `path` names an existing regular file (false for directories and missing paths). */
export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Reads a whole file after bounding its size. */
export function readBoundedFile(path: string, maxBytes = MAX_INPUT_FILE_BYTES): Uint8Array {
  const size = statSync(path).size;
  if (size > maxBytes) {
    throw new IosnetError('INPUT_TOO_LARGE', `${path}: ${size} bytes exceeds ${maxBytes}`, { path, size });
  }
  return new Uint8Array(readFileSync(path));
}

const HEX_TEXT = /^[0-9a-fA-F]*$/;

/** Hex digits with whitespace and an optional 0x prefix removed, or undefined if `text` is not hex. */
function hexDigits(text: string): string | undefined {
  let s = text.replace(/\s+/g, '');
  if (s.startsWith('0x') || s.startsWith('0X')) s = s.slice(2);
  return s.length > 0 && HEX_TEXT.test(s) ? s : undefined;
}

function hexToBytes(digits: string, source: string): Uint8Array {
  if (digits.length % 2 !== 0) {
    throw new IosnetError('INPUT_INVALID', `${source}: hex has an odd number of digits (${digits.length})`);
  }
  return new Uint8Array(Buffer.from(digits, 'hex'));
}

/**
 * An object given on the command line: if `arg` names an existing file, its content (hex text, with
 * optional whitespace and 0x, or else raw bytes); otherwise `arg` itself must be hex. Every iosnet object
 * starts with a CBOR array head (0x82..0x9b), never a hex digit, so the two file forms cannot be confused.
 */
export function readObjectArgument(arg: string): { bytes: Uint8Array; source: string } {
  if (isFile(arg)) {
    const raw = readBoundedFile(arg);
    const digits = hexDigits(Buffer.from(raw).toString('latin1'));
    return { bytes: digits === undefined ? raw : hexToBytes(digits, arg), source: arg };
  }
  const digits = hexDigits(arg);
  if (digits === undefined) {
    const shown = arg.length > 40 ? `${arg.slice(0, 40)}...` : arg;
    throw new IosnetError('INPUT_INVALID', `'${shown}': no such file, and not hex`, { arg: shown });
  }
  return { bytes: hexToBytes(digits, 'argument'), source: 'argument' };
}
