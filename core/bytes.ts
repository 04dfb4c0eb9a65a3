/** Byte helpers used across core. Platform-free: Uint8Array only, no Buffer. */
import { ArgumentError } from './errors.js';

const HEX = /* @__PURE__ */ Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
  return out;
}

/** Strict hex: even length, [0-9a-fA-F] only, optional 0x prefix. */
export function fromHex(hex: string, argument = 'hex'): Uint8Array {
  if (typeof hex !== 'string') throw new ArgumentError(argument, 'expected a hex string');
  const s = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new ArgumentError(argument, 'not a hex string');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Lexicographic order of byte strings; -1, 0 or 1. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

const utf8Encoder = /* @__PURE__ */ new TextEncoder();
export function utf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

/** Asserts a Uint8Array, optionally of an exact length (TypeError-like / RangeError-like, named argument). */
export function abytes(value: unknown, argument: string, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new ArgumentError(argument, 'expected Uint8Array');
  if (length !== undefined && value.length !== length) {
    throw new ArgumentError(argument, `expected ${length} bytes, got ${value.length}`);
  }
  return value;
}

/** Asserts a non-negative safe integer. */
export function auint(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ArgumentError(argument, 'expected a non-negative safe integer');
  }
  return value;
}

/** 8-byte big-endian encoding of an unsigned integer (< 2^64). */
export function u64be(value: number | bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}
