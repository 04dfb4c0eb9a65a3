/**
 * core/cbor.ts against test/vectors/cbor/*.json (RFC 8949 Appendix A for the subset we accept, and inputs
 * that must be rejected with a given DecodeError code), plus cbor-x as an independent oracle.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Encoder } from 'cbor-x';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex } from '../../../core/bytes.js';
import {
  CborReader,
  type CborValue,
  CborWriter,
  decodeCbor,
  encodeCbor,
  readCborValue,
  writeCborValue,
} from '../../../core/cbor.js';
import { DecodeError } from '../../../core/errors.js';

type VectorValue = null | boolean | number | string | VectorValue[] | { $bytes: string } | { $u64: string };
interface ValidVector {
  name: string;
  hex: string;
  value: VectorValue;
  source?: string;
}
interface RejectVector {
  name: string;
  hex: string;
  error: string;
}

const vectorUrl = (name: string) => new URL(`../../vectors/cbor/${name}`, import.meta.url);
const valid = (JSON.parse(readFileSync(vectorUrl('valid.json'), 'utf8')) as { valid: ValidVector[] }).valid;
const reject = (JSON.parse(readFileSync(vectorUrl('reject.json'), 'utf8')) as { reject: RejectVector[] })
  .reject;

function fromVector(v: VectorValue): CborValue {
  if (Array.isArray(v)) return v.map(fromVector);
  if (v !== null && typeof v === 'object') return '$bytes' in v ? fromHex(v.$bytes) : BigInt(v.$u64);
  return v;
}

function decodeError(f: () => unknown): DecodeError {
  try {
    f();
  } catch (e) {
    if (e instanceof DecodeError) return e;
    throw new Error(`expected a DecodeError, got ${String(e)}`);
  }
  throw new Error('expected a DecodeError, nothing was thrown');
}

// ---- cbor-x as an oracle ----

const cborx = new Encoder({ useRecords: false, variableMapSize: true, tagUint8Array: false });

/**
 * cbor-x writes every bigint with 8 bytes and every JS number >= 2^32 as a float64, so the canonical form
 * needs numbers below 2^32 and bigints from 2^32 up (where the 8-byte form IS the shortest).
 */
function toCborx(v: CborValue): unknown {
  if (typeof v === 'number') return v < 2 ** 32 ? v : BigInt(v);
  if (typeof v === 'bigint') return v < 2n ** 32n ? Number(v) : v;
  if (Array.isArray(v)) return v.map(toCborx);
  return v;
}

/** cbor-x decodes byte strings as Buffer and every 8-byte integer as bigint; ours gives numbers up to 2^53-1. */
function fromCborx(v: unknown): unknown {
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) return v.map(fromCborx);
  return v;
}

const U64_MAX = (1n << 64n) - 1n;

const cborValue: fc.Arbitrary<CborValue> = fc.letrec<{ value: CborValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.maxSafeNat(),
    fc.constantFrom(0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER),
    fc.bigInt({ min: 2n ** 53n, max: U64_MAX }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 30 }),
  ),
})).value;

// ---- vectors ----

describe('valid vectors (RFC 8949 Appendix A subset)', () => {
  it('cover every integer width boundary and every supported type', () => {
    const names = valid.map((v) => v.name);
    for (const n of [
      '0',
      '23',
      '24',
      '255',
      '256',
      '65535',
      '65536',
      '2^32-1',
      '2^32',
      'true',
      'false',
      'null',
    ]) {
      expect(names).toContain(n);
    }
    expect(valid.filter((v) => v.source === 'RFC 8949 Appendix A').length).toBeGreaterThan(25);
  });

  it.each(valid.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const value = fromVector(v.value);
    expect(toHex(encodeCbor(value))).toBe(v.hex);
    expect(decodeCbor(fromHex(v.hex))).toEqual(value);
  });

  it.each(valid.map((v) => [v.name, v] as const))('cbor-x agrees: %s', (_name, v) => {
    const value = fromVector(v.value);
    expect(toHex(new Uint8Array(cborx.encode(toCborx(value))))).toBe(v.hex);
    expect(fromCborx(cborx.decode(fromHex(v.hex)))).toEqual(value);
  });

  it('every strict prefix of every valid vector is DECODE_TRUNCATED', () => {
    for (const v of valid) {
      const b = fromHex(v.hex);
      for (let n = 0; n < b.length; n++) {
        const e = decodeError(() => decodeCbor(b.subarray(0, n)));
        expect(e.code, `${v.name} cut at ${n}`).toBe('DECODE_TRUNCATED');
      }
    }
  });

  it('every valid vector followed by any byte is DECODE_TRAILING_BYTES at the right offset', () => {
    for (const v of valid) {
      const b = fromHex(v.hex);
      for (const extra of [0x00, 0x80, 0xf6, 0xff]) {
        const e = decodeError(() => decodeCbor(concatBytes(b, Uint8Array.of(extra))));
        expect(e.code).toBe('DECODE_TRAILING_BYTES');
        expect(e.data.offset).toBe(b.length);
      }
    }
  });

  it('a leading BOM round-trips unchanged (TextDecoder must not strip it)', () => {
    const s = '\ufeffhello';
    const b = encodeCbor(s);
    expect(toHex(b.subarray(1, 4))).toBe('efbbbf');
    expect(decodeCbor(b)).toBe(s);
    expect(new CborReader(b).text('t', 100)).toBe(s);
  });
});

describe('reject vectors', () => {
  it('cover the required classes', () => {
    const codes = new Set(reject.map((v) => v.error));
    for (const c of [
      'DECODE_TRUNCATED',
      'DECODE_NON_CANONICAL',
      'DECODE_UNSUPPORTED',
      'DECODE_TRAILING_BYTES',
      'DECODE_INVALID_UTF8',
      'DECODE_TOO_DEEP',
    ]) {
      expect(codes).toContain(c);
    }
  });

  it.each(reject.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const e = decodeError(() => decodeCbor(fromHex(v.hex)));
    expect(e.code).toBe(v.error);
    expect(typeof e.data.field).toBe('string');
  });

  it('non-shortest forms are rejected at every width for every major type we accept', () => {
    // (value, width) pairs whose value fits a narrower form; major 0, 2 (length), 3 (length), 4 (count).
    const cases: [number, number][] = [
      [0, 1],
      [23, 1],
      [0, 2],
      [255, 2],
      [0, 4],
      [65535, 4],
      [0, 8],
      [2 ** 32 - 1, 8],
    ];
    for (const major of [0, 2, 3, 4]) {
      for (const [value, width] of cases) {
        const info = { 1: 24, 2: 25, 4: 26, 8: 27 }[width]!;
        const arg = new Uint8Array(width);
        for (let i = 0; i < width; i++) arg[width - 1 - i] = Number((BigInt(value) >> BigInt(8 * i)) & 0xffn);
        const e = decodeError(() => decodeCbor(concatBytes(Uint8Array.of((major << 5) | info), arg)));
        // The head is checked before the content, so a widened length with no content behind it is
        // reported as non-canonical, not truncated.
        expect(e.code, `major ${major} value ${value} in ${width} bytes`).toBe('DECODE_NON_CANONICAL');
      }
    }
  });

  it('a huge array or string count fails fast without allocating', () => {
    for (const hex of ['9bffffffffffffffff', '5bffffffffffffffff', '7bffffffffffffffff', '9affffffff']) {
      const before = process.memoryUsage().arrayBuffers;
      const t = performance.now();
      expect(decodeError(() => decodeCbor(fromHex(hex))).code).toBe('DECODE_TRUNCATED');
      expect(performance.now() - t).toBeLessThan(50);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
    }
  });

  it('deep nesting stops at the limit without exhausting the stack', () => {
    const nested = (n: number) => concatBytes(new Uint8Array(n - 1).fill(0x81), Uint8Array.of(0x80));
    expect(() => decodeCbor(nested(17))).not.toThrow();
    expect(decodeError(() => decodeCbor(nested(18))).code).toBe('DECODE_TOO_DEEP');
    expect(decodeError(() => decodeCbor(new Uint8Array(200_000).fill(0x81))).code).toBe('DECODE_TOO_DEEP');
  });

  it('decodeCbor bounds the input size before parsing', () => {
    const e = decodeError(() => decodeCbor(new Uint8Array(11), 10));
    expect(e.code).toBe('DECODE_OVERSIZE');
  });

  it('errors carry the byte offset of the offending item', () => {
    expect(decodeError(() => decodeCbor(fromHex('83010218ff1800'))).data.offset).toBe(5);
    expect(decodeError(() => decodeCbor(fromHex('820161ff'))).data.offset).toBe(2);
    expect(decodeError(() => decodeCbor(fromHex('8201a0'))).data.offset).toBe(2);
  });
});

describe('typed reads (CborReader)', () => {
  it('uint enforces its maximum; u64 accepts 2^64-1; both refuse other types', () => {
    expect(decodeError(() => new CborReader(fromHex('1906')).uint('x', 5)).code).toBe('DECODE_TRUNCATED');
    expect(decodeError(() => new CborReader(fromHex('06')).uint('x', 5)).code).toBe('DECODE_INT_RANGE');
    expect(decodeError(() => new CborReader(fromHex('1b0020000000000000')).uint('x')).code).toBe(
      'DECODE_INT_RANGE',
    );
    expect(new CborReader(fromHex('1bffffffffffffffff')).u64('x')).toBe(U64_MAX);
    expect(new CborReader(fromHex('05')).u64('x')).toBe(5n);
    expect(decodeError(() => new CborReader(fromHex('4105')).u64('x')).code).toBe('DECODE_UNEXPECTED_TYPE');
    expect(decodeError(() => new CborReader(fromHex('f5')).uint('x')).code).toBe('DECODE_UNEXPECTED_TYPE');
  });

  it('byte strings: exact and bounded lengths', () => {
    const b3 = fromHex('43010203');
    expect(new CborReader(b3).bytesField('x', 3)).toEqual(Uint8Array.of(1, 2, 3));
    expect(decodeError(() => new CborReader(b3).bytesField('x', 4)).code).toBe('DECODE_INVALID_LENGTH');
    expect(decodeError(() => new CborReader(b3).bytesField('x', { max: 2 })).code).toBe('DECODE_OVERSIZE');
    expect(decodeError(() => new CborReader(b3).bytesField('x', { min: 4, max: 9 })).code).toBe(
      'DECODE_INVALID_LENGTH',
    );
    expect(decodeError(() => new CborReader(fromHex('6161')).bytesField('x')).code).toBe(
      'DECODE_UNEXPECTED_TYPE',
    );
  });

  it('text bounds count encoded bytes, not UTF-16 units', () => {
    const s = encodeCbor('üü'); // 4 UTF-8 bytes, 2 UTF-16 units
    expect(new CborReader(s).text('x', 4)).toBe('üü');
    expect(decodeError(() => new CborReader(s).text('x', 3)).code).toBe('DECODE_OVERSIZE');
  });

  it('bool, nullIf and array bounds', () => {
    expect(new CborReader(fromHex('f5')).bool('x')).toBe(true);
    expect(new CborReader(fromHex('f4')).bool('x')).toBe(false);
    expect(decodeError(() => new CborReader(fromHex('f6')).bool('x')).code).toBe('DECODE_UNEXPECTED_TYPE');
    expect(decodeError(() => new CborReader(fromHex('01')).bool('x')).code).toBe('DECODE_UNEXPECTED_TYPE');
    const r = new CborReader(fromHex('f601'));
    expect(r.nullIf()).toBe(true);
    expect(r.nullIf()).toBe(false);
    expect(r.uint('x')).toBe(1);
    expect(r.nullIf()).toBe(false);
    expect(decodeError(() => new CborReader(fromHex('83010203')).array('x', 2)).code).toBe(
      'DECODE_INVALID_LENGTH',
    );
    expect(decodeError(() => new CborReader(fromHex('83010203')).array('x', { max: 2 })).code).toBe(
      'DECODE_OVERSIZE',
    );
  });

  it('reads from a subarray with a non-zero byteOffset', () => {
    const backing = fromHex('ffff1b00000001000000004101');
    const r = new CborReader(backing.subarray(2));
    expect(r.uint('x')).toBe(2 ** 32);
    expect(r.bytesField('y', 1)).toEqual(Uint8Array.of(1));
    r.end();
  });
});

describe('skip (CborReader)', () => {
  it('steps over one item of any accepted kind and lands where a full read would', () => {
    const items: CborValue[] = [
      0,
      23,
      24,
      65_536,
      2n ** 40n,
      Uint8Array.of(1, 2, 3),
      'üb',
      true,
      null,
      [1, [2, [3]], 'x'],
    ];
    const w = new CborWriter();
    for (const v of items) writeCborValue(w, v);
    const bytes = w.finish();
    const skipper = new CborReader(bytes);
    const reader = new CborReader(bytes);
    for (const _ of items) {
      skipper.skip('x');
      readCborValue(reader, 'x');
      expect(skipper.pos).toBe(reader.pos);
    }
    skipper.end();
  });

  it('refuses what the typed reads refuse: truncation, indefinite lengths, maps, floats, deep nesting', () => {
    expect(decodeError(() => new CborReader(fromHex('430102')).skip('x')).code).toBe('DECODE_TRUNCATED');
    expect(decodeError(() => new CborReader(fromHex('830102')).skip('x')).code).toBe('DECODE_TRUNCATED');
    expect(decodeError(() => new CborReader(fromHex('9f01ff')).skip('x')).code).toBe('DECODE_UNSUPPORTED');
    expect(decodeError(() => new CborReader(fromHex('a10102')).skip('x')).code).toBe('DECODE_UNSUPPORTED');
    expect(decodeError(() => new CborReader(fromHex('f93c00')).skip('x')).code).toBe('DECODE_UNSUPPORTED');
    expect(decodeError(() => new CborReader(fromHex('1817')).skip('x')).code).toBe('DECODE_NON_CANONICAL');
    const deep = new Uint8Array(40).fill(0x81);
    expect(decodeError(() => new CborReader(deep).skip('x')).code).toBe('DECODE_TOO_DEEP');
  });
});

describe('CborWriter', () => {
  it('refuses values outside the subset', () => {
    const w = new CborWriter();
    expect(() => w.uint(-1)).toThrow(RangeError);
    expect(() => w.uint(1.5)).toThrow(RangeError);
    expect(() => w.uint(2 ** 53)).toThrow(RangeError);
    expect(() => w.uint(U64_MAX + 1n)).toThrow(RangeError);
    expect(() => w.uint(-1n)).toThrow(RangeError);
    expect(() => encodeCbor({} as unknown as CborValue)).toThrow(TypeError);
  });

  it('grows from a small initial buffer', () => {
    const big = new Uint8Array(5000).fill(7);
    const out = new CborWriter(1).bytes(big).uint(U64_MAX).text('x'.repeat(300)).finish();
    expect(out.length).toBe(3 + 5000 + 9 + 3 + 300);
    const r = new CborReader(out);
    expect(r.bytesField('b')).toEqual(big);
  });

  it('raw() splices already-encoded items', () => {
    const inner = encodeCbor([1, 'a']);
    expect(toHex(new CborWriter().array(2).raw(inner).null().finish())).toBe('8282016161f6');
  });

  it('[core bug] text with a lone surrogate is refused, not silently encoded as U+FFFD', () => {
    // Today 'a\ud800b' encodes as 61 ef bf bd 62 ("a\ufffdb"), so two different strings share one encoding
    // (and one device identity hash, see identity.test.ts). cbor-x instead writes ED A0 80, which is not
    // UTF-8 at all and which our decoder rejects. Refusing the string is the only faithful choice.
    expect(toHex(new Uint8Array(cborx.encode('a\ud800b')))).toBe('6561eda08062');
    expect(() => encodeCbor('a\ud800b')).toThrow();
  });

  it('[core bug] new CborWriter(0) can grow (reserve() doubles 0 forever today)', () => {
    // Run in a child process: the bug is an infinite synchronous loop that would hang this worker.
    const cborPath = fileURLToPath(new URL('../../../core/cbor.ts', import.meta.url));
    const code = `import { CborWriter } from ${JSON.stringify(`file://${cborPath}`)}; new CborWriter(0).uint(1).finish(); console.log('grew');`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: fileURLToPath(new URL('../../../', import.meta.url)),
      encoding: 'utf8',
      timeout: 6_000,
    });
    expect(r.stdout.trim()).toBe('grew');
  }, 20_000);
});

describe('decoded byte strings are independent of the input', () => {
  it('from a plain Uint8Array', () => {
    const input = encodeCbor([Uint8Array.of(1, 2, 3)]);
    const out = (decodeCbor(input) as Uint8Array[])[0]!;
    input.fill(0);
    expect([...out]).toEqual([1, 2, 3]);
  });

  it('[core bug] from a Node Buffer (Buffer#slice is a view, not a copy)', () => {
    // CborReader.bytesField promises a copy "so callers may keep it after the input buffer is reused",
    // but this.bytes.slice() on a Buffer returns a view into it. Gateways read Buffers from sockets and
    // LMDB (getBinaryFast reuses its buffer), so decoded keys, hashes and signatures would change under them.
    const input = Buffer.from(encodeCbor([Uint8Array.of(1, 2, 3)]));
    const out = (decodeCbor(input) as Uint8Array[])[0]!;
    input.fill(0);
    expect([...out]).toEqual([1, 2, 3]);
  });
});

describe('property: our encoding equals cbor-x, and both decode it to the same value', () => {
  it('random CborValues', () => {
    fc.assert(
      fc.property(cborValue, (v) => {
        const ours = encodeCbor(v);
        expect(toHex(new Uint8Array(cborx.encode(toCborx(v))))).toBe(toHex(ours));
        expect(fromCborx(cborx.decode(ours))).toEqual(v);
        expect(decodeCbor(ours)).toEqual(v);
      }),
      { numRuns: 1000 },
    );
  });

  it('cbor-x is not canonical by itself for integers (why the oracle normalises)', () => {
    // JS numbers from 2^32 up become float64; bigints always take 8 bytes. Both are rejected by our decoder.
    expect(toHex(new Uint8Array(cborx.encode(2 ** 32)))).toBe('fb41f0000000000000');
    expect(toHex(new Uint8Array(cborx.encode(Number.MAX_SAFE_INTEGER)))).toBe('fb433fffffffffffff');
    expect(toHex(new Uint8Array(cborx.encode(5n)))).toBe('1b0000000000000005');
    expect(decodeError(() => decodeCbor(new Uint8Array(cborx.encode(2 ** 32)))).code).toBe(
      'DECODE_UNSUPPORTED',
    );
    expect(decodeError(() => decodeCbor(new Uint8Array(cborx.encode(5n)))).code).toBe('DECODE_NON_CANONICAL');
  });

  it('decode(encode(v)) = v and encode(decode(b)) = b for random values', () => {
    fc.assert(
      fc.property(cborValue, (v) => {
        const b = encodeCbor(v);
        expect(toHex(encodeCbor(decodeCbor(b)))).toBe(toHex(b));
      }),
      { numRuns: 500 },
    );
  });

  it('random byte strings either decode canonically or throw DecodeError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        let v: CborValue;
        try {
          v = decodeCbor(b);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
          return;
        }
        expect(toHex(encodeCbor(v))).toBe(toHex(b));
      }),
      { numRuns: 5000 },
    );
  });
});
