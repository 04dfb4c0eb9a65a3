/**
 * The PeerMessage codec: fixed vectors (docs/peer-protocol.md §4), every bound on both sides (encode:
 * ArgumentError, decode: DecodeError with its code), and properties: round trip, and any mutation of an
 * encoding either decodes to a message that re-encodes to exactly those bytes or throws DecodeError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../../core/bytes.js';
import { CborWriter } from '../../../../core/cbor.js';
import { ArgumentError, DecodeError, type DecodeErrorCode } from '../../../../core/errors.js';
import { MAX_VIEW, PeerMessageBounds } from '../../../../gateway/network/constants.js';
import type { PeerMessage } from '../../../../gateway/network/interface.js';
import {
  decodePeerMessage,
  encodePeerMessage,
  PeerMessageCode,
} from '../../../../gateway/network/messages.js';
import { sampleMessages } from './helpers.js';

function expectDecodeError(bytes: Uint8Array, code: DecodeErrorCode): DecodeError {
  try {
    decodePeerMessage(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    expect((e as DecodeError).code).toBe(code);
    return e as DecodeError;
  }
  throw new Error(`decoded ${toHex(bytes)}; expected ${code}`);
}

const cbor = () => new CborWriter();

describe('PeerMessage codec', () => {
  it('numbers the types once, in the documented table', () => {
    expect(PeerMessageCode).toEqual({
      status: 1,
      txs: 2,
      proposal: 3,
      vote: 4,
      decided: 5,
      getBlocks: 6,
      blocks: 7,
      getStateBlocks: 8,
      stateBlocks: 9,
      getSnapshot: 10,
      snapshotChunk: 11,
      beaconPartial: 12,
    });
  });

  // Vectors copied into docs/peer-protocol.md §4.
  const vectors: [PeerMessage, string][] = [
    [{ type: 'status', height: 1000, view: 2, stateBlocks: 3 }, '84011903e80203'],
    [{ type: 'txs', txs: [Uint8Array.of(0xaa), Uint8Array.of()] }, '82028241aa40'],
    [{ type: 'vote', bytes: Uint8Array.of(1, 2, 3) }, '820443010203'],
    [{ type: 'decided', height: 24, certificate: Uint8Array.of(9) }, '830518184109'],
    [{ type: 'getBlocks', fromHeight: 0, count: 64 }, '8306001840'],
    [
      { type: 'blocks', items: [{ block: Uint8Array.of(1), certificate: Uint8Array.of(2) }] },
      '8207818241014102',
    ],
    [{ type: 'getStateBlocks', fromIndex: 5, count: 1 }, '83080501'],
    [
      { type: 'stateBlocks', items: [{ stateBlock: Uint8Array.of(7), nextCommittee: null }] },
      '820981824107f6',
    ],
    [{ type: 'getSnapshot', height: 10, cursor: null }, '830a0af6'],
    [{ type: 'snapshotChunk', height: 10, chunk: Uint8Array.of(1) }, '830b0a4101'],
    [{ type: 'beaconPartial', epoch: 3, bytes: Uint8Array.of(0xff) }, '830c0341ff'],
  ];

  it.each(vectors)('vector %#: %o', (message, hex) => {
    expect(toHex(encodePeerMessage(message))).toBe(hex);
    expect(decodePeerMessage(fromHex(hex))).toEqual(message);
  });

  it('round-trips the sample of every type', () => {
    for (const m of sampleMessages()) {
      const bytes = encodePeerMessage(m);
      // Buffer.equals: vitest's toEqual walks a 1 MiB array element by element (seconds).
      expect(Buffer.from(encodePeerMessage(decodePeerMessage(bytes))).equals(bytes)).toBe(true);
    }
  });

  it('accepts every payload at its bound and refuses one byte more, on both sides', () => {
    const atBound: [PeerMessage, PeerMessage][] = [
      [
        { type: 'vote', bytes: new Uint8Array(PeerMessageBounds.vote) },
        { type: 'vote', bytes: new Uint8Array(PeerMessageBounds.vote + 1) },
      ],
      [
        { type: 'decided', height: 1, certificate: new Uint8Array(PeerMessageBounds.certificate) },
        { type: 'decided', height: 1, certificate: new Uint8Array(PeerMessageBounds.certificate + 1) },
      ],
      [
        { type: 'txs', txs: [new Uint8Array(PeerMessageBounds.tx)] },
        { type: 'txs', txs: [new Uint8Array(PeerMessageBounds.tx + 1)] },
      ],
      [
        { type: 'proposal', bytes: new Uint8Array(PeerMessageBounds.proposal) },
        { type: 'proposal', bytes: new Uint8Array(PeerMessageBounds.proposal + 1) },
      ],
      [
        { type: 'beaconPartial', epoch: 0, bytes: new Uint8Array(PeerMessageBounds.beaconPartial) },
        { type: 'beaconPartial', epoch: 0, bytes: new Uint8Array(PeerMessageBounds.beaconPartial + 1) },
      ],
      [
        { type: 'getSnapshot', height: 0, cursor: new Uint8Array(64) },
        { type: 'getSnapshot', height: 0, cursor: new Uint8Array(65) },
      ],
    ];
    for (const [ok, over] of atBound) {
      expect(decodePeerMessage(encodePeerMessage(ok)).type).toBe(ok.type);
      expect(() => encodePeerMessage(over)).toThrow(ArgumentError);
      // The same oversize message, written by hand as a hostile peer would:
      const w = cbor();
      const fields = Object.entries(over).filter(([k]) => k !== 'type');
      w.array(fields.length + 1).uint(PeerMessageCode[over.type]);
      for (const [, v] of fields) {
        if (typeof v === 'number') w.uint(v);
        else if (v instanceof Uint8Array) w.bytes(v);
        else {
          w.array((v as Uint8Array[]).length);
          for (const b of v as Uint8Array[]) w.bytes(b);
        }
      }
      expectDecodeError(w.finish(), 'DECODE_OVERSIZE');
    }
  });

  it('bounds counts and integers', () => {
    expect(() => encodePeerMessage({ type: 'getBlocks', fromHeight: 0, count: 0 })).toThrow(ArgumentError);
    expect(() => encodePeerMessage({ type: 'getBlocks', fromHeight: 0, count: 65 })).toThrow(ArgumentError);
    expect(() => encodePeerMessage({ type: 'status', height: -1, view: 0, stateBlocks: 0 })).toThrow(
      ArgumentError,
    );
    expect(() =>
      encodePeerMessage({ type: 'status', height: 0, view: MAX_VIEW + 1, stateBlocks: 0 }),
    ).toThrow(ArgumentError);
    expect(() => encodePeerMessage({ type: 'txs', txs: new Array(4097).fill(new Uint8Array(0)) })).toThrow(
      ArgumentError,
    );
    expect(() => encodePeerMessage({ type: 'snapshotChunk', height: 0, chunk: new Uint8Array(0) })).toThrow(
      ArgumentError,
    );
    expect(() => encodePeerMessage({ type: 'nope' } as unknown as PeerMessage)).toThrow(ArgumentError);

    expectDecodeError(cbor().array(3).uint(6).uint(0).uint(0).finish(), 'DECODE_INVALID_VALUE');
    expectDecodeError(cbor().array(3).uint(6).uint(0).uint(65).finish(), 'DECODE_INT_RANGE');
    expectDecodeError(
      cbor()
        .array(4)
        .uint(1)
        .uint(0)
        .uint(MAX_VIEW + 1)
        .uint(0)
        .finish(),
      'DECODE_INT_RANGE',
    );
    expectDecodeError(
      cbor()
        .array(4)
        .uint(1)
        .uint(2n ** 53n)
        .uint(0)
        .uint(0)
        .finish(),
      'DECODE_INT_RANGE',
    );
    const manyTxs = cbor().array(2).uint(2).array(4097);
    for (let i = 0; i < 4097; i++) manyTxs.bytes(new Uint8Array(0));
    expectDecodeError(manyTxs.finish(), 'DECODE_OVERSIZE');
    // An empty snapshot chunk: the minimum length is 1.
    expectDecodeError(
      cbor().array(3).uint(11).uint(0).bytes(new Uint8Array(0)).finish(),
      'DECODE_INVALID_LENGTH',
    );
  });

  it('refuses unknown types, wrong arity, trailing bytes, non-canonical forms and oversize input', () => {
    expectDecodeError(Uint8Array.of(0x81, 0x00), 'DECODE_UNKNOWN_TYPE'); // [0]
    expectDecodeError(Uint8Array.of(0x81, 0x0d), 'DECODE_UNKNOWN_TYPE'); // [13]
    expectDecodeError(Uint8Array.of(0x83, 0x04, 0x41, 0x00, 0x00), 'DECODE_INVALID_LENGTH'); // vote with 2 fields
    expectDecodeError(Uint8Array.of(0x80), 'DECODE_INVALID_LENGTH'); // []
    expectDecodeError(fromHex('8204430102030000'), 'DECODE_TRAILING_BYTES');
    expectDecodeError(fromHex('8218044100'), 'DECODE_NON_CANONICAL'); // type 4 in two bytes
    expectDecodeError(fromHex('a0'), 'DECODE_UNSUPPORTED'); // a map
    expectDecodeError(fromHex('9f04ff'), 'DECODE_UNSUPPORTED'); // indefinite array
    expectDecodeError(fromHex('82045a7fffffff'), 'DECODE_TRUNCATED'); // 2 GiB announced, nothing there
    expect(() => decodePeerMessage(fromHex('820443010203'), 5)).toThrow(DecodeError);
    expect(() => encodePeerMessage({ type: 'vote', bytes: new Uint8Array(10) }, 5)).toThrow(ArgumentError);
  });

  it('returns byte strings that own their memory (not views into the frame)', () => {
    const frame = new Uint8Array(encodePeerMessage({ type: 'vote', bytes: Uint8Array.of(1, 2, 3) }));
    const m = decodePeerMessage(frame) as Extract<PeerMessage, { type: 'vote' }>;
    frame.fill(0);
    expect(m.bytes).toEqual(Uint8Array.of(1, 2, 3));
  });
});

// ----------------------------------------------------------------------------------------- properties

const uint = fc.oneof(
  fc.nat(1000),
  fc.maxSafeNat(),
  fc.constantFrom(23, 24, 255, 256, 65535, 65536, 2 ** 32),
);
const bytes = (max: number, min = 0) => fc.uint8Array({ minLength: min, maxLength: Math.min(max, 200) });
const orNull = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });

const peerMessage: fc.Arbitrary<PeerMessage> = fc.oneof(
  fc.record({
    type: fc.constant('status' as const),
    height: uint,
    view: fc.integer({ min: 0, max: MAX_VIEW }),
    stateBlocks: uint,
  }),
  fc.record({
    type: fc.constant('txs' as const),
    txs: fc.array(bytes(PeerMessageBounds.tx), { maxLength: 5 }),
  }),
  fc.record({ type: fc.constant('proposal' as const), bytes: bytes(PeerMessageBounds.proposal) }),
  fc.record({ type: fc.constant('vote' as const), bytes: bytes(PeerMessageBounds.vote) }),
  fc.record({ type: fc.constant('decided' as const), height: uint, certificate: bytes(512) }),
  fc.record({
    type: fc.constant('getBlocks' as const),
    fromHeight: uint,
    count: fc.integer({ min: 1, max: 64 }),
  }),
  fc.record({
    type: fc.constant('blocks' as const),
    items: fc.array(fc.record({ block: bytes(1 << 20), certificate: bytes(512) }), { maxLength: 3 }),
  }),
  fc.record({
    type: fc.constant('getStateBlocks' as const),
    fromIndex: uint,
    count: fc.integer({ min: 1, max: 256 }),
  }),
  fc.record({
    type: fc.constant('stateBlocks' as const),
    items: fc.array(fc.record({ stateBlock: bytes(1024), nextCommittee: orNull(bytes(65536)) }), {
      maxLength: 3,
    }),
  }),
  fc.record({ type: fc.constant('getSnapshot' as const), height: uint, cursor: orNull(bytes(64)) }),
  fc.record({
    type: fc.constant('snapshotChunk' as const),
    height: uint,
    chunk: bytes(4096, 1),
  }),
  fc.record({ type: fc.constant('beaconPartial' as const), epoch: uint, bytes: bytes(1 << 16) }),
);

type Mutation =
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; byte: number }
  | { kind: 'delete'; at: number }
  | { kind: 'set'; at: number; byte: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
);

function mutate(b: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let out = Array.from(b);
  for (const m of ms) {
    const at = out.length === 0 ? 0 : m.at % (out.length + (m.kind === 'insert' ? 1 : 0));
    if (m.kind === 'flip' && out.length > 0) out[at]! ^= m.mask;
    else if (m.kind === 'set' && out.length > 0) out[at] = m.byte;
    else if (m.kind === 'truncate') out = out.slice(0, at);
    else if (m.kind === 'insert') out.splice(at, 0, m.byte);
    else if (m.kind === 'delete') out.splice(at, 1);
  }
  return Uint8Array.from(out);
}

describe('PeerMessage codec properties', () => {
  it('decode(encode(m)) = m', () => {
    fc.assert(
      fc.property(peerMessage, (m) => {
        expect(decodePeerMessage(encodePeerMessage(m))).toEqual(m);
      }),
      { numRuns: 2000 },
    );
  });

  it('a mutated encoding decodes to a message with exactly those bytes, or throws DecodeError', () => {
    fc.assert(
      fc.property(peerMessage, fc.array(mutation, { minLength: 1, maxLength: 4 }), (m, ms) => {
        const bad = mutate(encodePeerMessage(m), ms);
        let decoded: PeerMessage;
        try {
          decoded = decodePeerMessage(bad);
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          return;
        }
        expect(toHex(encodePeerMessage(decoded))).toBe(toHex(bad)); // canonical: no malleability
      }),
      { numRuns: 5000 },
    );
  });

  it('arbitrary bytes only ever throw DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          expect(toHex(encodePeerMessage(decodePeerMessage(b)))).toBe(toHex(b));
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
        }
      }),
      { numRuns: 5000 },
    );
  });
});
