/**
 * Block = [1, 3, header, txs, lastCommit]: a BlockHeader object, the array of Transaction objects whose ids
 * make up header.txRoot (core/merkle.ts) in order, and the parent's commit certificate (null at height 1)
 * whose hash is header.lastCommit. A block's id is its header's id.
 */

import { equalBytes } from './bytes.js';
import { CborReader, CborWriter } from './cbor.js';
import type { Crypto } from './crypto.js';
import { DecodeError, invalidValue, VerifyError } from './errors.js';
import { DomainTag, taggedHash } from './hash.js';
import {
  type BlockHeader,
  encodeFinalityCertificate,
  type FinalityCertificate,
  readBlockHeader,
  readFinalityCertificate,
  writeBlockHeader,
  writeFinalityCertificate,
} from './header.js';
import { merkleRoot } from './merkle.js';
import { assertMaxSize, ObjectType, readEnvelope, writeEnvelope } from './object.js';
import { MAX_TX_BYTES, readTx, type Transaction, txIdOfBody, writeTx } from './tx.js';

export const MAX_BLOCK_BYTES = 8 * 1024 * 1024;
export const MAX_BLOCK_TXS = 20_000;

export interface Block {
  readonly header: BlockHeader;
  readonly txs: readonly Transaction[];
  /** The parent block's commit certificate: who voted on time (docs/consensus.md §4.5). */
  readonly lastCommit: FinalityCertificate | null;
}

/** header.lastCommit for a block carrying `cert`: H("iosnet/certificate/v1", cert bytes), zeros for none. */
export function lastCommitHash(crypto: Crypto, cert: FinalityCertificate | null): Uint8Array {
  return cert
    ? taggedHash(crypto, DomainTag.certificate, encodeFinalityCertificate(cert))
    : new Uint8Array(32);
}

/**
 * `txBytes`: the transactions' exact encodings when the caller holds them (a proposer's mempool does), so
 * that they are copied instead of re-encoded; they must be what writeTx gives for `b.txs` (canonical
 * encodings of the same transactions), which every decoded transaction's bytes are.
 */
export function encodeBlock(b: Block, txBytes?: readonly Uint8Array[]): Uint8Array {
  let size = 512;
  if (txBytes) for (const t of txBytes) size += t.length;
  else size += b.txs.length * 200;
  const w = new CborWriter(size);
  writeEnvelope(w, ObjectType.block, 3);
  writeBlockHeader(w, b.header);
  w.array(b.txs.length);
  if (txBytes) {
    if (txBytes.length !== b.txs.length) throw new RangeError('encodeBlock: one encoding per transaction');
    for (const t of txBytes) w.raw(t);
  } else {
    for (const tx of b.txs) writeTx(w, tx);
  }
  if (b.lastCommit) writeFinalityCertificate(w, b.lastCommit);
  else w.null();
  return w.finish();
}

export interface ParsedBlock {
  readonly block: Block;
  readonly blockId: Uint8Array;
  readonly txIds: Uint8Array[];
  /** A view of the block's exact bytes within the input. */
  readonly bytes: Uint8Array;
}

/**
 * Transactions the caller already holds decoded (a gateway's mempool): given a transaction's id and its
 * exact bytes in the block, the decoded transaction if it holds one with exactly those bytes. Decoding a
 * block then costs a hash per known transaction instead of a decode, and allocates nothing for it.
 */
export type KnownTxs = (id: Uint8Array, bytes: Uint8Array) => Transaction | undefined;

/**
 * A known transaction at r.pos: its (id, tx) with r past it, or undefined with r where it was (the caller
 * decodes it in full, which also reports whatever is malformed about it).
 */
function readKnownTx(
  crypto: Crypto,
  r: CborReader,
  known: KnownTxs,
): { tx: Transaction; id: Uint8Array } | undefined {
  const start = r.pos;
  try {
    readEnvelope(r, ObjectType.tx, 2);
    const bodyStart = r.pos;
    r.skip('tx.body');
    const bodyEnd = r.pos;
    r.skip('tx.signatures');
    if (r.pos - start <= MAX_TX_BYTES) {
      const id = txIdOfBody(crypto, r.bytes.subarray(bodyStart, bodyEnd));
      const tx = known(id, r.bytes.subarray(start, r.pos));
      if (tx !== undefined) return { tx, id };
    }
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
  r.pos = start;
  return undefined;
}

/** Reads one Block item (e.g. inside a proposal), hashing ids from the input's own spans. */
export function readBlock(crypto: Crypto, r: CborReader, known?: KnownTxs): ParsedBlock {
  const start = r.pos;
  readEnvelope(r, ObjectType.block, 3);
  const { header, bodyBytes } = readBlockHeader(r);
  const blockId = taggedHash(crypto, DomainTag.blockHeader, bodyBytes);
  const n = r.array('block.txs', { max: MAX_BLOCK_TXS });
  if (n !== header.txCount)
    invalidValue('block.txs', `header says ${header.txCount} transactions, body has ${n}`);
  const txs: Transaction[] = [];
  const txIds: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    if (known !== undefined) {
      const hit = readKnownTx(crypto, r, known);
      if (hit !== undefined) {
        txs.push(hit.tx);
        txIds.push(hit.id);
        continue;
      }
    }
    const txStart = r.pos;
    const { tx, bodyBytes: txBody } = readTx(r);
    // The same bound a lone transaction gets, so a block cannot carry one no mempool would accept.
    if (r.pos - txStart > MAX_TX_BYTES) {
      throw new DecodeError(
        'DECODE_OVERSIZE',
        `block.txs[${i}]: ${r.pos - txStart} bytes exceeds ${MAX_TX_BYTES}`,
        {
          field: `block.txs[${i}]`,
          max: MAX_TX_BYTES,
          got: r.pos - txStart,
        },
      );
    }
    txs.push(tx);
    txIds.push(txIdOfBody(crypto, txBody));
  }
  const lastCommit = r.nullIf() ? null : readFinalityCertificate(r);
  return { block: { header, txs, lastCommit }, blockId, txIds, bytes: r.bytes.subarray(start, r.pos) };
}

/** A stored block's header alone: reads no further than the header (blocks hold thousands of transactions). */
export function blockHeaderOf(bytes: Uint8Array): BlockHeader {
  assertMaxSize(bytes, MAX_BLOCK_BYTES, 'block');
  const r = new CborReader(bytes);
  readEnvelope(r, ObjectType.block, 3);
  return readBlockHeader(r).header;
}

/** Decode plus the block id and every tx id, hashed from the input's own spans. */
export function parseBlock(crypto: Crypto, bytes: Uint8Array, known?: KnownTxs): ParsedBlock {
  assertMaxSize(bytes, MAX_BLOCK_BYTES, 'block');
  const r = new CborReader(bytes);
  const parsed = readBlock(crypto, r, known);
  r.end('block');
  return parsed;
}

export function decodeBlock(crypto: Crypto, bytes: Uint8Array): Block {
  return parseBlock(crypto, bytes).block;
}

/** The header commits to exactly these transactions (txRoot over their ids) and this lastCommit. */
export function verifyBlockBody(crypto: Crypto, block: Block, txIds: readonly Uint8Array[]): void {
  if (!equalBytes(merkleRoot(crypto, txIds), block.header.txRoot)) {
    throw new VerifyError('VERIFY_ROOT_MISMATCH', 'transaction root does not match the header', {
      field: 'header.txRoot',
    });
  }
  if (!equalBytes(lastCommitHash(crypto, block.lastCommit), block.header.lastCommit)) {
    throw new VerifyError('VERIFY_ROOT_MISMATCH', 'lastCommit certificate does not match the header', {
      field: 'header.lastCommit',
    });
  }
}
