/**
 * Object vectors (test/vectors/objects/*.json): exact bytes and ids of every top-level object kind for fixed
 * deterministic inputs, plus inputs each decoder must reject with a given code. Regenerate deliberately with
 * `npx tsx scripts/gen-vectors-objects.ts` when a format or hash changes on purpose.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crossTxIdOf } from '../../../core/atomix.js';
import { blockHeaderOf, encodeBlock, parseBlock } from '../../../core/block.js';
import { concatBytes, equalBytes, fromHex, toHex } from '../../../core/bytes.js';
import { hasSupermajority } from '../../../core/committee.js';
import { DecodeError, IosnetError, VerifyError } from '../../../core/errors.js';
import { type Genesis, validateGenesis } from '../../../core/genesis.js';
import { blockIdOf } from '../../../core/header.js';
import { verifySmtProof } from '../../../core/smt.js';
import { atomixLockKey, encodeAtomixLockRecord, stateValueHash } from '../../../core/state.js';
import { decodeTx, encodeTx, MAX_TX_BYTES, parseTx, txIdOf, verifyTxSignatures } from '../../../core/tx.js';
import { makeLockProof } from '../../helpers/atomix.js';
import {
  makeBlock,
  makeCommittee,
  makeFinalityCertificate,
  makeHeader,
  signCollective,
  verifyCertificateFor,
  verifyCertificateSignature,
  verifyHeaderSignature,
} from '../../helpers/chain.js';
import { testCrypto } from '../../helpers/crypto.js';
import { validObjectCases } from '../../helpers/object-fixtures.js';
import {
  CODECS,
  OBJECT_KINDS,
  type ObjectKind,
  type ObjectVectorFile,
  toJsonValue,
} from '../../helpers/objects.js';
import { makeTx, TX_KINDS } from '../../helpers/tx.js';

/** Where `needle` starts in `hay` (-1 if absent). */
function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let k = 0; k < needle.length; k++) if (hay[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}

const vectorDir = new URL('../../vectors/objects/', import.meta.url);
function loadVectors(kind: ObjectKind): ObjectVectorFile {
  return JSON.parse(readFileSync(new URL(CODECS[kind].file, vectorDir), 'utf8')) as ObjectVectorFile;
}

function rejectBytes(v: { hex: string; appendZeroBytes?: number }): Uint8Array {
  const b = fromHex(v.hex);
  return v.appendZeroBytes ? concatBytes(b, new Uint8Array(v.appendZeroBytes)) : b;
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

const fixtures = validObjectCases();

describe.each(OBJECT_KINDS)('%s vectors', (kind) => {
  const codec = CODECS[kind];
  const file = loadVectors(kind);

  it('the file covers the kind with valid and reject vectors', () => {
    expect(file.kind).toBe(kind);
    expect(file.valid.length).toBeGreaterThan(0);
    expect(file.reject.length).toBeGreaterThan(10);
    expect(file.valid.map((v) => v.name)).toEqual(fixtures[kind].map((c) => c.name));
  });

  it.each(file.valid.map((v) => [v.name, v] as const))('valid: %s', (_name, v) => {
    const bytes = fromHex(v.hex);
    const value = codec.decode(bytes);
    expect(toJsonValue(value)).toEqual(v.value);
    expect(toHex(codec.encode(value))).toBe(v.hex);
    if (codec.id) expect(toHex(codec.id(bytes))).toBe(v.id);
    else expect(v.id).toBeUndefined();
    if (codec.valueHash) expect(toHex(codec.valueHash(bytes))).toBe(v.valueHash);
    codec.verify?.(value);
  });

  it('the deterministic fixtures still encode to the recorded bytes', () => {
    const got = fixtures[kind].map((c) => toHex(codec.encode(c.value)));
    expect(got).toEqual(file.valid.map((v) => v.hex));
  });

  it.each(file.reject.map((v) => [v.name, v] as const))('reject: %s', (_name, v) => {
    const bytes = rejectBytes(v);
    if (v.stage === 'decode') {
      const e = thrown(() => codec.decode(bytes));
      expect(e).toBeInstanceOf(DecodeError);
      expect((e as DecodeError).code).toBe(v.error);
      return;
    }
    const value = codec.decode(bytes);
    const e =
      v.stage === 'validate'
        ? thrown(() => validateGenesis(testCrypto, value as Genesis))
        : thrown(() => codec.verify!(value));
    expect(e).toBeInstanceOf(v.stage === 'verify' ? VerifyError : IosnetError);
    expect((e as IosnetError).code).toBe(v.error);
  });
});

describe('transactions', () => {
  it.each(TX_KINDS)('makeTx(%s) is signed by the right keys and parses to the same id', (kind) => {
    const { tx, id, bytes, signers } = makeTx(kind);
    expect(signers.length).toBe(kind === 'registerDevice' ? 2 : 1);
    const parsed = parseTx(testCrypto, bytes);
    expect(toHex(parsed.id)).toBe(toHex(id));
    expect(toHex(txIdOf(testCrypto, parsed.tx))).toBe(toHex(id));
    expect(parsed.tx).toEqual(tx);
    verifyTxSignatures(testCrypto, parsed.tx);
  });

  it('a tx signed for another chain decodes and verifies, but has another id', () => {
    const here = makeTx('transfer');
    const there = makeTx('transfer', { chainId: 'iosnet-other' });
    verifyTxSignatures(testCrypto, decodeTx(there.bytes));
    expect(equalBytes(here.id, there.id)).toBe(false);
    // The foreign signature on the local body: the id differs, so the signature cannot carry over.
    const replay = { body: here.tx.body, signatures: there.tx.signatures };
    expect((thrown(() => verifyTxSignatures(testCrypto, replay)) as VerifyError).code).toBe(
      'VERIFY_BAD_SIGNATURE',
    );
  });

  it('register-device without its second signature: decode rejects; verify also refuses it in memory', () => {
    const { tx } = makeTx('registerDevice');
    const one = { ...tx, signatures: tx.signatures.slice(0, 1) };
    expect((thrown(() => decodeTx(encodeTx(one))) as DecodeError).code).toBe('DECODE_INVALID_VALUE');
    expect((thrown(() => verifyTxSignatures(testCrypto, one)) as VerifyError).code).toBe(
      'VERIFY_MISSING_SIGNATURE',
    );
  });

  it('atomix commit and abort carry lock proofs that verify: SMT inclusion, proposer signature, certificate', () => {
    const commit = makeTx('atomixCommit').payload;
    const abort = makeTx('atomixAbort').payload;
    const crossTxId = crossTxIdOf(testCrypto, commit.crossTx);
    for (const proof of [...commit.acceptances, abort.rejection]) {
      const { header, certificate, record } = proof;
      expect(toHex(record.crossTxId)).toBe(toHex(crossTxId));
      verifySmtProof(
        testCrypto,
        header.stateRoot,
        atomixLockKey(testCrypto, record.crossTxId, record.inputIndex),
        stateValueHash(testCrypto, encodeAtomixLockRecord(record)),
        proof.proof,
      );
      const tc = makeCommittee({ shard: header.shard });
      verifyHeaderSignature(tc.prepared, header);
      verifyCertificateFor(tc.prepared, header, certificate);
    }
    expect(commit.acceptances.map((a) => a.record.status)).toEqual(['accepted', 'accepted']);
    expect(abort.rejection.record.status).toBe('rejected');
  });
});

describe('committees and certificates', () => {
  it('exactly 2/3 of the weight is not a supermajority; one more unit is', () => {
    const tc = makeCommittee({ weights: [1, 1, 1], label: 'committee/thirds', leagueSize: 1 });
    const { header } = makeHeader(tc);
    const two = makeFinalityCertificate(tc, header, [0, 1]);
    expect((thrown(() => verifyCertificateSignature(tc.prepared, two)) as VerifyError).code).toBe(
      'VERIFY_INSUFFICIENT_WEIGHT',
    );
    verifyCertificateSignature(tc.prepared, makeFinalityCertificate(tc, header, [0, 1, 2]));
    expect(hasSupermajority(200, 300)).toBe(false);
    expect(hasSupermajority(201, 300)).toBe(true);
  });

  it('[core bug] hasSupermajority is exact for weights near 2^53 (docs: "integer arithmetic")', () => {
    // 3 × 4503599627370499 = 13510798882111497 > 2 × 6755399441055748 = 13510798882111496, but the float
    // product rounds to ...496 (ties to even) and the comparison says false. Weights up to 2^53 - 1 decode.
    const signed = 4503599627370499;
    const total = 6755399441055748;
    expect(BigInt(signed) * 3n > BigInt(total) * 2n).toBe(true);
    expect(Number.isSafeInteger(total)).toBe(true);
    expect(hasSupermajority(signed, total)).toBe(true);
  });

  it('the committee signs only the blockId: verifyFinalityCertificate binds shard, height and epoch', () => {
    // H(vote, 0x02 || blockId) does not cover the certificate's other fields, so a certificate with another
    // height passes the collective-signature check alone; core's verifyFinalityCertificate compares them
    // with the header and refuses it.
    const tc = makeCommittee();
    const { header } = makeHeader(tc);
    const cert = makeFinalityCertificate(tc, header);
    for (const forged of [
      { ...cert, height: cert.height + 1 },
      { ...cert, shard: 1 },
      { ...cert, epoch: 2 },
    ]) {
      verifyCertificateSignature(tc.prepared, forged);
      expect((thrown(() => verifyCertificateFor(tc.prepared, header, forged)) as VerifyError).code).toBe(
        'VERIFY_INVALID_FIELD',
      );
    }
  });

  it('a signer bitmap for the wrong committee size is rejected before any pairing', () => {
    const tc = makeCommittee();
    const { header, blockId } = makeHeader(tc);
    expect(equalBytes(blockId, blockIdOf(testCrypto, header))).toBe(true);
    const nine = makeCommittee({ weights: [5, 9, 1, 7, 3, 8, 2, 6, 4], leagueSize: 3, label: 'committee/9' });
    const cert = { ...makeFinalityCertificate(tc, header), signature: signCollective(nine, blockId, [0]) };
    expect((thrown(() => verifyCertificateSignature(tc.prepared, cert)) as VerifyError).code).toBe(
      'VERIFY_BITMAP_MISMATCH',
    );
  });
});

describe('blocks', () => {
  it('parseBlock hashes every tx from its own bytes and the header commits to them', () => {
    const tc = makeCommittee();
    const { block, blockId, txIds } = makeBlock(tc, [makeTx('transfer').tx, makeTx('review').tx]);
    const parsed = parseBlock(testCrypto, encodeBlock(block));
    expect(toHex(parsed.blockId)).toBe(toHex(blockId));
    expect(parsed.txIds.map(toHex)).toEqual(txIds.map(toHex));
    CODECS.block.verify!(parsed.block);
  });

  it("encodeBlock with the transactions' own encodings gives the same bytes", () => {
    const tc = makeCommittee();
    const txs = [makeTx('transfer').tx, makeTx('review').tx, makeTx('registerDevice').tx];
    const { block } = makeBlock(tc, txs);
    expect(toHex(encodeBlock(block, txs.map(encodeTx)))).toBe(toHex(encodeBlock(block)));
    expect(() => encodeBlock(block, [encodeTx(txs[0]!)])).toThrow(RangeError);
  });

  it('blockHeaderOf reads the header alone', () => {
    const tc = makeCommittee();
    const { block } = makeBlock(tc, [makeTx('transfer').tx]);
    const bytes = encodeBlock(block);
    expect(blockHeaderOf(bytes)).toEqual(parseBlock(testCrypto, bytes).block.header);
    expect((thrown(() => blockHeaderOf(bytes.subarray(0, 20))) as DecodeError).code).toBe('DECODE_TRUNCATED');
  });

  it('parseBlock takes known transactions with the same bytes instead of decoding them, and only those', () => {
    const tc = makeCommittee();
    const a = makeTx('transfer');
    const b = makeTx('review');
    const { block } = makeBlock(tc, [a.tx, b.tx]);
    const bytes = encodeBlock(block);
    const plain = parseBlock(testCrypto, bytes);
    // A pool holding `a` decoded (an object of its own) and, under b's id, other bytes: a forged copy.
    const held = { ...a.tx };
    const forged = encodeTx({ ...b.tx, signatures: [new Uint8Array(64).fill(9)] });
    const asked: string[] = [];
    const parsed = parseBlock(testCrypto, bytes, (id, txBytes) => {
      asked.push(toHex(id));
      if (toHex(id) === toHex(plain.txIds[0]!) && equalBytes(txBytes, encodeTx(a.tx))) return held;
      if (toHex(id) === toHex(plain.txIds[1]!) && equalBytes(txBytes, forged)) return { ...b.tx };
      return undefined;
    });
    expect(asked).toEqual(plain.txIds.map(toHex));
    expect(parsed.block.txs[0]).toBe(held);
    expect(parsed.block.txs[1]).not.toBe(b.tx);
    expect(parsed.block.txs[1]).toEqual(plain.block.txs[1]);
    expect(parsed.txIds.map(toHex)).toEqual(plain.txIds.map(toHex));
    expect(toHex(parsed.bytes)).toBe(toHex(bytes));
  });

  it('parseBlock with known transactions still reports a malformed transaction', () => {
    const tc = makeCommittee();
    const { block } = makeBlock(tc, [makeTx('transfer').tx]);
    const bytes = encodeBlock(block);
    const tx = encodeTx(block.txs[0]!);
    const at = indexOf(bytes, tx);
    const bad = new Uint8Array(bytes);
    bad[at + tx.length - 65] = 0x5f; // the signature's byte-string head becomes an indefinite length
    const plainError = thrown(() => parseBlock(testCrypto, bad)) as DecodeError;
    const knownError = thrown(() => parseBlock(testCrypto, bad, () => undefined)) as DecodeError;
    expect(knownError.code).toBe(plainError.code);
    expect(knownError.message).toBe(plainError.message);
  });

  it('[core bug] a block cannot carry a transaction larger than MAX_TX_BYTES', () => {
    // An atomix commit with 8 inputs whose lock proofs have deep SMT paths is ~70 KB: decodeTx rejects
    // it (DECODE_OVERSIZE), but readTx inside parseBlock applies no per-tx bound, so a proposer can put
    // into a block a transaction that no mempool would accept.
    const commit = makeTx('atomixCommit');
    const base = commit.payload.acceptances[0]!;
    const deep = makeLockProof(commit.payload.crossTx, 0, 'accepted').proof;
    const siblings = new Uint8Array(32 * 256).fill(7);
    const bigProof = {
      ...base,
      proof: { ...deep, depth: 256, bitmap: new Uint8Array(32).fill(0xff), siblings },
    };
    const part = commit.payload.crossTx.inputs[0]!;
    const crossTx = {
      ...commit.payload.crossTx,
      inputs: Array(8).fill(part),
      outputs: [{ ...part, amount: part.amount * 8n }],
    };
    const big = makeTx('atomixCommit', { payload: { crossTx, acceptances: Array(8).fill(bigProof) } });
    expect(big.bytes.length).toBeGreaterThan(MAX_TX_BYTES);
    expect((thrown(() => decodeTx(big.bytes)) as DecodeError).code).toBe('DECODE_OVERSIZE');
    const blockBytes = encodeBlock(makeBlock(makeCommittee(), [big.tx]).block);
    const e = thrown(() => parseBlock(testCrypto, blockBytes));
    expect(e).toBeInstanceOf(DecodeError);
    expect((e as DecodeError).code).toBe('DECODE_OVERSIZE');
  });
});
