/**
 * Byte-level tools for must-reject vectors: patch an exact spot of a valid encoding, flip bits, re-encode
 * through cbor-x as a careless implementation would, plus the rejects every object kind shares.
 * Used by scripts/gen-vectors-objects.ts (the vector test reads the generated JSON, not these).
 */
import { Encoder } from 'cbor-x';
import { concatBytes, fromHex, toHex } from '../../core/bytes.js';
import { decodeCbor, encodeCbor } from '../../core/cbor.js';
import { CODECS, type ObjectKind } from './objects.js';

export interface RejectSpec {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly appendZeroBytes?: number;
  readonly stage?: 'decode' | 'verify' | 'validate';
  readonly error: string;
  readonly note?: string;
}

export const hex = toHex;
export const bytesOf = (h: string) => fromHex(h);
export const zeros = (n: number) => new Uint8Array(n);
export const filled = (n: number, v: number) => new Uint8Array(n).fill(v);

/** Replaces the only occurrence (at a byte boundary) of needle in bytes; throws if absent or ambiguous. */
export function patch(bytes: Uint8Array, needle: string, replacement: string): Uint8Array {
  const h = hex(bytes);
  const hits: number[] = [];
  for (let i = h.indexOf(needle); i !== -1; i = h.indexOf(needle, i + 1)) if (i % 2 === 0) hits.push(i);
  if (hits.length !== 1) throw new Error(`patch: needle ${needle} found ${hits.length} times`);
  return bytesOf(h.slice(0, hits[0]) + replacement + h.slice(hits[0]! + needle.length));
}

export function setByte(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const out = bytes.slice();
  out[offset] = value;
  return out;
}

export function flipBit(bytes: Uint8Array, offset: number, bit = 0): Uint8Array {
  return setByte(bytes, offset, bytes[offset]! ^ (1 << bit));
}

export const cborHex = (v: string | number | bigint | Uint8Array) => hex(encodeCbor(v));

// cbor-x as a careless implementation would use it: the default options, and the "deterministic" options
// from ENV-NOTES (which still write integers in 2^32..2^53 as float64).
export const cborxDefault = new Encoder();
export const cborxDeterministic = new Encoder({
  useRecords: false,
  variableMapSize: true,
  tagUint8Array: false,
});
export const viaCborx = (bytes: Uint8Array, enc: Encoder) =>
  new Uint8Array(enc.encode(decodeCbor(bytes, 1 << 24)));

// ---- rejects every kind shares ----

export function genericRejects(kind: ObjectKind, bytes: Uint8Array): RejectSpec[] {
  const { type, maxBytes } = CODECS[kind];
  const head = bytes[0]!;
  const otherType = type === 1 ? 2 : 1;
  return [
    { name: 'empty input', bytes: new Uint8Array(0), error: 'DECODE_TRUNCATED' },
    { name: 'truncated by one byte', bytes: bytes.subarray(0, -1), error: 'DECODE_TRUNCATED' },
    { name: 'truncated after the envelope', bytes: bytes.subarray(0, 3), error: 'DECODE_TRUNCATED' },
    {
      name: 'truncated in the middle',
      bytes: bytes.subarray(0, bytes.length >> 1),
      error: 'DECODE_TRUNCATED',
    },
    { name: 'one trailing zero byte', bytes: concatBytes(bytes, zeros(1)), error: 'DECODE_TRAILING_BYTES' },
    { name: 'two copies back to back', bytes: concatBytes(bytes, bytes), error: 'DECODE_TRAILING_BYTES' },
    { name: 'version 2', bytes: setByte(bytes, 1, 2), error: 'DECODE_UNKNOWN_VERSION' },
    { name: 'version 0', bytes: setByte(bytes, 1, 0), error: 'DECODE_UNKNOWN_VERSION' },
    {
      name: `object type ${otherType} instead of ${type}`,
      bytes: setByte(bytes, 2, otherType),
      error: 'DECODE_UNKNOWN_TYPE',
    },
    {
      name: 'version widened to two bytes (0x18 0x01)',
      bytes: concatBytes(Uint8Array.of(head, 0x18, 0x01), bytes.subarray(2)),
      error: 'DECODE_NON_CANONICAL',
    },
    {
      name: 'envelope array count widened (0x98 n)',
      bytes: concatBytes(Uint8Array.of(0x98, head & 0x1f), bytes.subarray(1)),
      error: 'DECODE_NON_CANONICAL',
    },
    {
      name: 'envelope with one item too many',
      bytes: concatBytes(Uint8Array.of(head + 1), bytes.subarray(1), zeros(1)),
      error: 'DECODE_INVALID_LENGTH',
    },
    {
      name: 'envelope as an indefinite-length array',
      bytes: concatBytes(Uint8Array.of(0x9f), bytes.subarray(1), Uint8Array.of(0xff)),
      error: 'DECODE_UNSUPPORTED',
    },
    {
      name: 'a map instead of the envelope',
      bytes: Uint8Array.of(0xa1, 0x01, 0x01),
      error: 'DECODE_UNSUPPORTED',
    },
    {
      name: 'wrapped in tag 24 (encoded CBOR data item)',
      bytes: concatBytes(Uint8Array.of(0xd8, 0x18), encodeCbor(bytes)),
      error: 'DECODE_UNSUPPORTED',
    },
    {
      name: `oversize: padded to ${maxBytes + 1} bytes`,
      bytes,
      appendZeroBytes: maxBytes + 1 - bytes.length,
      error: 'DECODE_OVERSIZE',
      note: 'The size bound is checked before any parsing.',
    },
  ];
}
