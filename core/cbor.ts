/**
 * Canonical CBOR (RFC 8949) restricted to the subset iosnet objects use, with the "core deterministic
 * encoding" rules of RFC 8949 §4.2.1 enforced on decode:
 *   - major types 0 (uint), 2 (byte string), 3 (UTF-8 text), 4 (array), 7 only as false/true/null;
 *   - every length/argument in its shortest form; definite lengths only;
 *   - no maps, tags, negative integers, floats, undefined or simple values.
 * Anything else is rejected with a DecodeError carrying the byte offset. Because only one encoding of a
 * value is accepted, `encode(decode(b))` equals `b` for every accepted `b` (no malleability) without a
 * re-encode pass.
 *
 * Why not cbor-x at runtime: measured with esbuild --minify + gzip -9, cbor-x's encoder adds 11.2 KB to
 * the device light client, whose whole budget is 40 KB and which already spends 32.6 KB on noble
 * Ed25519 + BLS + sha256. cbor-x (configured deterministically) stays in the test suite as an
 * independent oracle: every vector must encode to the same bytes with both.
 */
import { DecodeError, type DecodeErrorCode } from './errors.js';

export type CborValue = number | bigint | string | boolean | null | Uint8Array | CborValue[];

const MAJOR_UINT = 0;
const MAJOR_BYTES = 2;
const MAJOR_TEXT = 3;
const MAJOR_ARRAY = 4;
const MAJOR_SIMPLE = 7;
const SIMPLE_FALSE = 0xf4;
const SIMPLE_TRUE = 0xf5;
const SIMPLE_NULL = 0xf6;
const MAX_U64 = (1n << 64n) - 1n;
const NOT_SHORTEST = 'argument not in shortest form';

const MAJOR_NAMES = ['uint', 'negative int', 'bytes', 'text', 'array', 'map', 'tag', 'simple/float'];

const textDecoder = /* @__PURE__ */ new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const textEncoder = /* @__PURE__ */ new TextEncoder();
/** With the u flag a surrogate pair is one code point, so only unpaired surrogates match \p{Cs}. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Appends canonical CBOR items to a growable buffer. */
export class CborWriter {
  private buf: Uint8Array;
  private view: DataView;
  private len = 0;

  constructor(initialSize = 256) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = Math.max(this.buf.length * 2, 64);
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private head(major: number, arg: number | bigint): void {
    const m = major << 5;
    if (typeof arg === 'number' && arg < 0x100000000) {
      if (arg < 24) {
        this.reserve(1);
        this.buf[this.len++] = m | arg;
      } else if (arg < 0x100) {
        this.reserve(2);
        this.buf[this.len++] = m | 24;
        this.buf[this.len++] = arg;
      } else if (arg < 0x10000) {
        this.reserve(3);
        this.buf[this.len++] = m | 25;
        this.view.setUint16(this.len, arg);
        this.len += 2;
      } else {
        this.reserve(5);
        this.buf[this.len++] = m | 26;
        this.view.setUint32(this.len, arg);
        this.len += 4;
      }
      return;
    }
    const big = BigInt(arg);
    if (big < 0x100000000n) {
      this.head(major, Number(big));
      return;
    }
    this.reserve(9);
    this.buf[this.len++] = m | 27;
    this.view.setBigUint64(this.len, big);
    this.len += 8;
  }

  /** Unsigned integer < 2^64 (number must be a safe integer). */
  uint(value: number | bigint): this {
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`cbor uint out of range: ${value}`);
    } else if (value < 0n || value > MAX_U64) {
      throw new RangeError(`cbor uint out of range: ${value}`);
    }
    this.head(MAJOR_UINT, value);
    return this;
  }

  bytes(value: Uint8Array): this {
    this.head(MAJOR_BYTES, value.length);
    this.reserve(value.length);
    this.buf.set(value, this.len);
    this.len += value.length;
    return this;
  }

  text(value: string): this {
    // TextEncoder writes U+FFFD for a lone surrogate, so two strings would share one encoding.
    if (LONE_SURROGATE.test(value))
      throw new RangeError('cbor text: lone surrogate (not well-formed UTF-16)');
    return this.textBytes(textEncoder.encode(value));
  }

  private textBytes(encoded: Uint8Array): this {
    this.head(MAJOR_TEXT, encoded.length);
    this.reserve(encoded.length);
    this.buf.set(encoded, this.len);
    this.len += encoded.length;
    return this;
  }

  array(length: number): this {
    this.head(MAJOR_ARRAY, length);
    return this;
  }

  bool(value: boolean): this {
    this.reserve(1);
    this.buf[this.len++] = value ? SIMPLE_TRUE : SIMPLE_FALSE;
    return this;
  }

  null(): this {
    this.reserve(1);
    this.buf[this.len++] = SIMPLE_NULL;
    return this;
  }

  /** Appends bytes that are already one or more canonical CBOR items (e.g. an embedded signed object). */
  raw(encoded: Uint8Array): this {
    this.reserve(encoded.length);
    this.buf.set(encoded, this.len);
    this.len += encoded.length;
    return this;
  }

  /** A copy of the bytes written so far. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** One constructor for every decode error: message "field: reason", data {field, offset, ...extra}. */
function fail(code: DecodeErrorCode, field: string, offset: number, reason: string, extra?: object): never {
  throw new DecodeError(code, `${field}: ${reason}`, { field, offset, reason, ...extra });
}

/** Bounds for a length: an exact value or an inclusive range. */
export type LengthBound = number | { readonly min?: number; readonly max: number };

function checkLength(field: string, got: number, bound: LengthBound | undefined, offset: number): void {
  if (bound === undefined) return;
  if (typeof bound === 'number') {
    if (got !== bound)
      fail('DECODE_INVALID_LENGTH', field, offset, `expected length ${bound}, got ${got}`, { got });
  } else if (got > bound.max) {
    fail('DECODE_OVERSIZE', field, offset, `length ${got} exceeds ${bound.max}`, { got, max: bound.max });
  } else if (bound.min !== undefined && got < bound.min) {
    fail('DECODE_INVALID_LENGTH', field, offset, `length ${got} below ${bound.min}`, { got });
  }
}

/**
 * Reads canonical CBOR items one at a time. Each read checks the item's major type and shortest-form
 * encoding and bounds every length against the bytes actually present before allocating anything.
 */
export class CborReader {
  readonly bytes: Uint8Array;
  pos: number;
  private readonly view: DataView;
  // Set by readHead(): major type and argument of the item just read.
  private major = 0;
  private arg = 0;
  private bigArg: bigint | undefined;

  /**
   * `views`: byte strings come back as views into `bytes` instead of copies — for callers that own `bytes`
   * and never change it (a gateway's mempool decodes its own copy of each transaction so: one allocation per
   * transaction instead of one per field).
   */
  constructor(
    bytes: Uint8Array,
    offset = 0,
    private readonly views = false,
  ) {
    this.bytes = bytes;
    this.pos = offset;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  private need(n: number, field: string): void {
    if (this.pos + n > this.bytes.length)
      fail('DECODE_TRUNCATED', field, this.pos, `input ends early (needs ${n} more bytes)`);
  }

  /** Reads the initial byte and argument of the next item; leaves pos after the argument. */
  private readHead(field: string): number {
    const start = this.pos;
    this.need(1, field);
    const ib = this.bytes[this.pos++]!;
    const major = ib >> 5;
    const info = ib & 0x1f;
    this.major = major;
    this.bigArg = undefined;
    if (major === MAJOR_SIMPLE) {
      if (ib === SIMPLE_FALSE || ib === SIMPLE_TRUE || ib === SIMPLE_NULL) {
        this.arg = info;
        return start;
      }
      fail('DECODE_UNSUPPORTED', field, start, 'float/undefined/simple values are not allowed');
    }
    if (major === 1 || major === 5 || major === 6) {
      fail('DECODE_UNSUPPORTED', field, start, `${MAJOR_NAMES[major]} is not allowed`);
    }
    if (info < 24) {
      this.arg = info;
    } else if (info === 24) {
      this.need(1, field);
      this.arg = this.bytes[this.pos++]!;
      if (this.arg < 24) fail('DECODE_NON_CANONICAL', field, start, NOT_SHORTEST);
    } else if (info === 25) {
      this.need(2, field);
      this.arg = this.view.getUint16(this.pos);
      this.pos += 2;
      if (this.arg < 0x100) fail('DECODE_NON_CANONICAL', field, start, NOT_SHORTEST);
    } else if (info === 26) {
      this.need(4, field);
      this.arg = this.view.getUint32(this.pos);
      this.pos += 4;
      if (this.arg < 0x10000) fail('DECODE_NON_CANONICAL', field, start, NOT_SHORTEST);
    } else if (info === 27) {
      this.need(8, field);
      const big = this.view.getBigUint64(this.pos);
      this.pos += 8;
      if (big < 0x100000000n) fail('DECODE_NON_CANONICAL', field, start, NOT_SHORTEST);
      this.bigArg = big;
      this.arg = big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : Number.POSITIVE_INFINITY;
    } else if (info === 31) {
      fail('DECODE_UNSUPPORTED', field, start, 'indefinite lengths are not allowed');
    } else {
      fail('DECODE_NON_CANONICAL', field, start, `reserved additional info ${info}`);
    }
    return start;
  }

  private expectMajor(field: string, expected: number, start: number): void {
    if (this.major !== expected) {
      fail(
        'DECODE_UNEXPECTED_TYPE',
        field,
        start,
        `expected ${MAJOR_NAMES[expected]}, got ${MAJOR_NAMES[this.major]}`,
      );
    }
  }

  /** Major type of the next item without consuming it, or -1 at the end of input. */
  peekMajor(): number {
    return this.pos < this.bytes.length ? this.bytes[this.pos]! >> 5 : -1;
  }

  /** Unsigned integer that fits a JS safe integer (counts, heights, times, indexes). */
  uint(field: string, max = Number.MAX_SAFE_INTEGER): number {
    const start = this.readHead(field);
    this.expectMajor(field, MAJOR_UINT, start);
    if (this.arg > max)
      fail('DECODE_INT_RANGE', field, start, `${this.bigArg ?? this.arg} exceeds ${max}`, { max });
    return this.arg;
  }

  /** Unsigned 64-bit integer as bigint (amounts). */
  u64(field: string): bigint {
    const start = this.readHead(field);
    this.expectMajor(field, MAJOR_UINT, start);
    return this.bigArg ?? BigInt(this.arg);
  }

  /** Byte string, copied out of the input (callers may keep it after the input buffer is reused), or a view (`views`). */
  bytesField(field: string, bound?: LengthBound): Uint8Array {
    const start = this.readHead(field);
    this.expectMajor(field, MAJOR_BYTES, start);
    const n = this.arg;
    this.need(n, field);
    checkLength(field, n, bound, start);
    if (this.views) {
      const view = this.bytes.subarray(this.pos, this.pos + n);
      this.pos += n;
      return view;
    }
    // A copy that owns its memory: on a Node Buffer, slice() is a view into the input.
    const out = new Uint8Array(n);
    out.set(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  /** UTF-8 text, at most maxBytes encoded bytes. */
  text(field: string, maxBytes: number): string {
    const start = this.readHead(field);
    this.expectMajor(field, MAJOR_TEXT, start);
    const n = this.arg;
    this.need(n, field);
    checkLength(field, n, { max: maxBytes }, start);
    let s: string;
    try {
      s = textDecoder.decode(this.bytes.subarray(this.pos, this.pos + n));
    } catch {
      fail('DECODE_INVALID_UTF8', field, start, 'invalid UTF-8');
    }
    this.pos += n;
    return s;
  }

  /** Array header; returns the item count. Every item takes at least one byte, so a count larger than
   * the remaining input is rejected before any allocation. */
  array(field: string, bound?: LengthBound): number {
    const start = this.readHead(field);
    this.expectMajor(field, MAJOR_ARRAY, start);
    const n = this.arg;
    if (n > this.remaining)
      fail('DECODE_TRUNCATED', field, start, `array of ${n} items in ${this.remaining} bytes`);
    checkLength(field, n, bound, start);
    return n;
  }

  bool(field: string): boolean {
    const start = this.readHead(field);
    if (this.major !== MAJOR_SIMPLE || this.arg === 22)
      fail('DECODE_UNEXPECTED_TYPE', field, start, 'expected bool');
    return this.arg === 21;
  }

  /**
   * Skips one well-formed item (the same canonical, definite-length subset the typed readers accept, at most
   * `maxDepth` arrays deep) without decoding it: for callers that only need where an item ends.
   */
  skip(field: string, maxDepth = 16): void {
    const start = this.readHead(field);
    const major = this.major;
    const n = this.arg;
    if (major === MAJOR_BYTES || major === MAJOR_TEXT) {
      this.need(n, field);
      this.pos += n;
    } else if (major === MAJOR_ARRAY) {
      if (maxDepth <= 0) fail('DECODE_TOO_DEEP', field, start, 'nesting too deep');
      if (n > this.remaining)
        fail('DECODE_TRUNCATED', field, start, `array of ${n} items in ${this.remaining} bytes`);
      for (let i = 0; i < n; i++) this.skip(field, maxDepth - 1);
    }
  }

  /** Consumes a null if one is next; returns whether it did. */
  nullIf(): boolean {
    if (this.bytes[this.pos] === SIMPLE_NULL) {
      this.pos++;
      return true;
    }
    return false;
  }

  /** Rejects trailing bytes after the last expected item. */
  end(field = 'object'): void {
    if (this.pos !== this.bytes.length)
      fail('DECODE_TRAILING_BYTES', field, this.pos, `${this.remaining} trailing bytes`);
  }
}

/** Writes any CborValue (generic tools and tests; protocol objects use the typed writers). */
export function writeCborValue(w: CborWriter, v: CborValue): void {
  if (typeof v === 'number' || typeof v === 'bigint') w.uint(v);
  else if (typeof v === 'string') w.text(v);
  else if (typeof v === 'boolean') w.bool(v);
  else if (v === null) w.null();
  else if (v instanceof Uint8Array) w.bytes(v);
  else if (Array.isArray(v)) {
    w.array(v.length);
    for (const item of v) writeCborValue(w, item);
  } else throw new TypeError(`cbor: cannot encode ${typeof v}`);
}

export function encodeCbor(value: CborValue): Uint8Array {
  const w = new CborWriter();
  writeCborValue(w, value);
  return w.finish();
}

/**
 * Reads any value (for generic tools such as `iosnet decode`); depth-limited. Kept out of CborReader so
 * device bundles, which only use typed reads, do not carry it.
 */
export function readCborValue(r: CborReader, field = 'value', maxDepth = 16): CborValue {
  if (maxDepth < 0) {
    throw new DecodeError('DECODE_TOO_DEEP', `${field}: nesting too deep`, { field, offset: r.pos });
  }
  switch (r.peekMajor()) {
    case MAJOR_UINT: {
      const big = r.u64(field);
      return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    case MAJOR_BYTES:
      return r.bytesField(field);
    case MAJOR_TEXT:
      return r.text(field, r.remaining);
    case MAJOR_ARRAY: {
      const n = r.array(field);
      const out: CborValue[] = [];
      for (let i = 0; i < n; i++) out.push(readCborValue(r, `${field}[${i}]`, maxDepth - 1));
      return out;
    }
    default:
      // bool() accepts false/true; null and every unsupported item raise the right error from here.
      return r.nullIf() ? null : r.bool(field);
  }
}

/** Strict decode of exactly one item; rejects trailing bytes and input over maxBytes. */
export function decodeCbor(bytes: Uint8Array, maxBytes = 1 << 20): CborValue {
  if (bytes.length > maxBytes) {
    throw new DecodeError('DECODE_OVERSIZE', `input of ${bytes.length} bytes exceeds ${maxBytes}`, {
      field: 'input',
      max: maxBytes,
      got: bytes.length,
    });
  }
  const r = new CborReader(bytes);
  const v = readCborValue(r);
  r.end();
  return v;
}
