/**
 * Properties of every object codec:
 *  1. encode -> decode -> encode is the identity for random valid objects (and ids hash the same span);
 *  2. a mutated valid encoding (bit flips, inserted/deleted/overwritten bytes, truncation, splices of two
 *     encodings) either throws DecodeError, or decodes to exactly the original, or decodes to an object
 *     that fails its authentication with VerifyError: never another exception, never another valid object.
 * Signed kinds are authenticated by their signatures against the deterministic test committees/keys;
 * unsigned kinds (committee, records, genesis) by the hash a verifier already trusts (state root leaf,
 * committee hash, genesis hash), which is how the protocol authenticates them.
 * Budget: noble Ed25519 verify ~1 ms, BLS verify ~30 ms; numRuns keep this file well under 60 s.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Block, parseBlock, verifyBlockBody } from '../../../core/block.js';
import { concatBytes, equalBytes, toHex } from '../../../core/bytes.js';
import { CborReader } from '../../../core/cbor.js';
import { DecodeError, VerifyError } from '../../../core/errors.js';
import { DomainTag, taggedHash } from '../../../core/hash.js';
import { type BlockHeader, blockIdOf, readBlockHeader } from '../../../core/header.js';
import { parseTx, type Transaction, txIdOf, verifyTxSignatures } from '../../../core/tx.js';
import { OBJECT_ARBITRARIES } from '../../helpers/arbitraries.js';
import {
  makeCommittee,
  makeHeader,
  verifyCertificateFor,
  verifyHeaderSignature,
  verifyStateBlockSignature,
} from '../../helpers/chain.js';
import { testCrypto } from '../../helpers/crypto.js';
import { validObjectCases } from '../../helpers/object-fixtures.js';
import { CODECS, OBJECT_KINDS, type ObjectKind } from '../../helpers/objects.js';

// ---- 1. round trip ----

const ROUND_TRIP_RUNS: Record<ObjectKind, number> = {
  tx: 400,
  header: 200,
  block: 100,
  finalityCertificate: 200,
  committee: 100,
  stateBlock: 200,
  account: 200,
  deviceRecord: 200,
  fileRecord: 200,
  atomixLockRecord: 200,
  genesis: 100,
};

describe.each(OBJECT_KINDS)('%s: encode -> decode -> encode', (kind) => {
  const codec = CODECS[kind];
  it('is the identity on random valid objects', () => {
    fc.assert(
      fc.property(OBJECT_ARBITRARIES[kind], (value) => {
        const bytes = codec.encode(value);
        expect(bytes.length).toBeLessThanOrEqual(codec.maxBytes);
        const decoded = codec.decode(bytes);
        expect(decoded).toEqual(value);
        expect(toHex(codec.encode(decoded))).toBe(toHex(bytes));
      }),
      { numRuns: ROUND_TRIP_RUNS[kind] },
    );
  });
});

describe('ids hash the exact bytes that were received', () => {
  it('tx id from the body span equals the id of the re-encoded body', () => {
    fc.assert(
      fc.property(OBJECT_ARBITRARIES.tx, (value) => {
        const tx = value as Transaction;
        const bytes = CODECS.tx.encode(tx);
        expect(toHex(parseTx(testCrypto, bytes).id)).toBe(toHex(txIdOf(testCrypto, tx)));
      }),
      { numRuns: 200 },
    );
  });

  it('block id from the header body span equals blockIdOf(header)', () => {
    fc.assert(
      fc.property(OBJECT_ARBITRARIES.header, (value) => {
        const header = value as BlockHeader;
        const { bodyBytes } = readBlockHeader(new CborReader(CODECS.header.encode(header)));
        expect(toHex(taggedHash(testCrypto, DomainTag.blockHeader, bodyBytes))).toBe(
          toHex(blockIdOf(testCrypto, header)),
        );
      }),
      { numRuns: 200 },
    );
  });
});

// ---- 2. mutations of valid signed encodings ----

const tc = makeCommittee();
const trustedHeader = makeHeader(tc).header;
const cases = validObjectCases();

/** What a receiver that trusts the test committee (or the original hash, for unsigned kinds) checks. */
function authenticate(kind: ObjectKind, value: unknown, original: Uint8Array): void {
  switch (kind) {
    case 'tx':
      verifyTxSignatures(testCrypto, value as Transaction);
      break;
    case 'header':
      verifyHeaderSignature(tc.prepared, value as BlockHeader);
      break;
    case 'block': {
      const block = value as Block;
      verifyHeaderSignature(tc.prepared, block.header);
      const { txIds } = parseBlock(testCrypto, CODECS.block.encode(block));
      verifyBlockBody(testCrypto, block, txIds);
      for (const [i, tx] of block.txs.entries()) verifyTxSignatures(testCrypto, tx, txIds[i]);
      break;
    }
    case 'finalityCertificate':
      verifyCertificateFor(tc.prepared, trustedHeader, value as never);
      break;
    case 'stateBlock':
      verifyStateBlockSignature(tc.prepared, value as never);
      break;
    default: {
      // Committee, state records, genesis: the verifier holds the hash (committee hash in a state block,
      // value hash under a state root, genesis hash in the image) and compares.
      const trusted = taggedHash(testCrypto, 'iosnet-test/trusted', original);
      const got = taggedHash(testCrypto, 'iosnet-test/trusted', CODECS[kind].encode(value));
      if (!equalBytes(trusted, got))
        throw new VerifyError('VERIFY_ROOT_MISMATCH', `${kind} differs from the trusted one`);
    }
  }
}

/** rejected: DecodeError; same: decodes to the original (or another genuine fixture); unauthenticated: VerifyError. */
type Outcome = 'rejected' | 'same' | 'unauthenticated';

function judge(kind: ObjectKind, original: Uint8Array, mutated: Uint8Array): Outcome {
  const codec = CODECS[kind];
  let value: unknown;
  try {
    value = codec.decode(mutated);
  } catch (e) {
    if (e instanceof DecodeError) return 'rejected';
    throw new Error(`${kind}: decode threw ${String(e)} (not a DecodeError) for ${toHex(mutated)}`);
  }
  // Strict decoding: anything accepted is the one canonical encoding of its value.
  expect(toHex(codec.encode(value))).toBe(toHex(mutated));
  // A splice can rebuild another genuine encoding exactly (prefix of A + the rest of B): not a forgery.
  if (equalBytes(mutated, original) || knownEncodings.has(toHex(mutated))) return 'same';
  try {
    authenticate(kind, value, original);
  } catch (e) {
    if (e instanceof VerifyError) return 'unauthenticated';
    throw new Error(`${kind}: authentication threw ${String(e)} (not a VerifyError) for ${toHex(mutated)}`);
  }
  throw new Error(`${kind}: a mutation produced another valid object: ${toHex(mutated)}`);
}

interface Sample {
  readonly kind: ObjectKind;
  readonly name: string;
  readonly bytes: Uint8Array;
}

const samples: Sample[] = OBJECT_KINDS.flatMap((kind) =>
  cases[kind].map((c) => ({ kind, name: c.name, bytes: CODECS[kind].encode(c.value) })),
);
const allEncodings = samples.map((s) => s.bytes);
const knownEncodings = new Set(allEncodings.map(toHex));

const INTERESTING = [
  0x00, 0x01, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x20, 0x40, 0x5f, 0x60, 0x7f, 0x80, 0x9f, 0xa0, 0xc0, 0xd8,
  0xf4, 0xf6, 0xf7, 0xf9, 0xff,
];

/** A mutation as data, so fast-check can shrink it and print it. */
const mutation = fc.oneof(
  fc.record({
    op: fc.constant('flip' as const),
    at: fc.nat(),
    bit: fc.nat(7),
    more: fc.array(fc.tuple(fc.nat(), fc.nat(7)), { maxLength: 2 }),
  }),
  fc.record({
    op: fc.constant('set' as const),
    at: fc.nat(),
    byte: fc.oneof(fc.constantFrom(...INTERESTING), fc.nat(255)),
  }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    byte: fc.oneof(fc.constantFrom(...INTERESTING), fc.nat(255)),
  }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('splice' as const), at: fc.nat(), other: fc.nat(), from: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function apply(bytes: Uint8Array, m: Mutation): Uint8Array {
  const n = bytes.length;
  const at = m.at % (n + 1);
  switch (m.op) {
    case 'flip': {
      const out = bytes.slice();
      for (const [i, bit] of [[m.at, m.bit] as const, ...m.more]) out[i % n]! ^= 1 << bit;
      return out;
    }
    case 'set': {
      const out = bytes.slice();
      out[m.at % n] = m.byte;
      return out;
    }
    case 'insert':
      return concatBytes(bytes.subarray(0, at), Uint8Array.of(m.byte), bytes.subarray(at));
    case 'delete':
      return concatBytes(bytes.subarray(0, at), bytes.subarray(at + m.count));
    case 'truncate':
      return bytes.subarray(0, m.at % n);
    case 'splice': {
      const other = allEncodings[m.other % allEncodings.length]!;
      return concatBytes(bytes.subarray(0, at), other.subarray(m.from % (other.length + 1)));
    }
  }
}

// BLS-checked kinds cost ~30-90 ms per decodable mutation; the rest are cheap.
const MUTATION_RUNS: Record<ObjectKind, number> = {
  tx: 150,
  header: 60,
  block: 60,
  finalityCertificate: 40,
  committee: 300,
  stateBlock: 40,
  account: 300,
  deviceRecord: 300,
  fileRecord: 300,
  atomixLockRecord: 300,
  genesis: 300,
};

describe.each(samples.map((s) => [`${s.kind} "${s.name}"`, s] as const))(
  'mutations of %s',
  (_label, sample) => {
    it('are rejected, unchanged, or fail authentication', () => {
      expect(judge(sample.kind, sample.bytes, sample.bytes)).toBe('same');
      authenticate(sample.kind, CODECS[sample.kind].decode(sample.bytes), sample.bytes);
      const seen: Record<Outcome, number> = { rejected: 0, same: 0, unauthenticated: 0 };
      fc.assert(
        fc.property(mutation, (m) => {
          seen[judge(sample.kind, sample.bytes, apply(sample.bytes, m))]++;
        }),
        { numRuns: MUTATION_RUNS[sample.kind] },
      );
      // Sanity: the mutations do reach the decoder's strictness (most are rejected).
      expect(seen.rejected).toBeGreaterThan(0);
    });
  },
);

describe('random bytes behind a valid envelope', () => {
  it.each(OBJECT_KINDS)('%s: only DecodeError', (kind) => {
    const head = CODECS[kind].encode(cases[kind][0]!.value).subarray(0, 3);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (tail) => {
        judge(kind, new Uint8Array(0), concatBytes(head, tail));
      }),
      { numRuns: 300 },
    );
  });
});
