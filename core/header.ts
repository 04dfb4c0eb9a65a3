/**
 * Block headers and finality certificates (docs/protocol.md §Blocks).
 *
 * BlockHeader = [1, 2, body, proposerSignature]
 *   body = [chainId, shard, height, epoch, view, parent, txRoot, stateRoot, proposer, time, txCount, lastCommit]
 *   blockId = H("iosnet/block/v1", body bytes); the proposer (an index into the epoch's committee)
 *   BLS-signs blockId. A valid proposer signature from a league member is confirmation grade 1.
 *   `view` is the view in which the block was first proposed (a re-proposal keeps the id); `lastCommit`
 *   is the hash of the parent's commit certificate carried in the block (zeros at height 1).
 * FinalityCertificate = [1, 4, blockId, shard, height, epoch, view, collectiveSignature]
 *   the committee signs H("iosnet/vote/v1", u8(2) || u32be(view) || blockId) (the commit vote of `view`);
 *   more than 2/3 of the committee's weight is confirmation grade 2 (final).
 * stateRoot is the sparse-Merkle root of the shard's state AFTER applying this block's transactions.
 */
import { CborReader, CborWriter } from './cbor.js';
import { type CollectiveSignature, readCollectiveSignature, writeCollectiveSignature } from './committee.js';
import type { Crypto } from './crypto.js';
import { DomainTag, taggedHash } from './hash.js';
import { BLS_SIGNATURE_BYTES, HASH_BYTES, MAX_CHAIN_ID_BYTES } from './identity.js';
import { assertMaxSize, ObjectType, readEnvelope, writeEnvelope } from './object.js';

export const MAX_HEADER_BYTES = 1024;
export const MAX_CERTIFICATE_BYTES = 512;

/** Vote phases; only the commit phase's certificate is a FinalityCertificate. */
export const VotePhase = { prepare: 1, commit: 2 } as const;

export interface BlockHeaderFields {
  readonly chainId: string;
  readonly shard: number;
  readonly height: number;
  readonly epoch: number;
  /** View (round) at this height in which the block was first proposed. */
  readonly view: number;
  readonly parent: Uint8Array;
  readonly txRoot: Uint8Array;
  readonly stateRoot: Uint8Array;
  /** Index of the proposer in the epoch's committee. */
  readonly proposer: number;
  /** Proposer's clock, milliseconds since the Unix epoch. */
  readonly time: number;
  readonly txCount: number;
  /** Hash of the parent's commit certificate (docs/consensus.md §4.5); 32 zero bytes at height 1. */
  readonly lastCommit: Uint8Array;
}

export interface BlockHeader extends BlockHeaderFields {
  readonly proposerSignature: Uint8Array;
}

export interface FinalityCertificate {
  readonly blockId: Uint8Array;
  readonly shard: number;
  readonly height: number;
  readonly epoch: number;
  /** The view whose commit votes this certificate aggregates. */
  readonly view: number;
  readonly signature: CollectiveSignature;
}

export function writeHeaderBody(w: CborWriter, h: BlockHeaderFields): void {
  w.array(12).text(h.chainId).uint(h.shard).uint(h.height).uint(h.epoch).uint(h.view);
  w.bytes(h.parent).bytes(h.txRoot).bytes(h.stateRoot).uint(h.proposer).uint(h.time).uint(h.txCount);
  w.bytes(h.lastCommit);
}

export function encodeHeaderBody(h: BlockHeaderFields): Uint8Array {
  const w = new CborWriter(192);
  writeHeaderBody(w, h);
  return w.finish();
}

export function blockIdOf(crypto: Crypto, h: BlockHeaderFields): Uint8Array {
  return taggedHash(crypto, DomainTag.blockHeader, encodeHeaderBody(h));
}

export function writeBlockHeader(w: CborWriter, h: BlockHeader): void {
  writeEnvelope(w, ObjectType.blockHeader, 2);
  writeHeaderBody(w, h);
  w.bytes(h.proposerSignature);
}

export function encodeBlockHeader(h: BlockHeader): Uint8Array {
  const w = new CborWriter(320);
  writeBlockHeader(w, h);
  return w.finish();
}

/** Reads a header; `bodyBytes` is the exact span hashed into the block id. */
export function readBlockHeader(r: CborReader): { header: BlockHeader; bodyBytes: Uint8Array } {
  readEnvelope(r, ObjectType.blockHeader, 2);
  const start = r.pos;
  r.array('header.body', 12);
  const chainId = r.text('header.chainId', MAX_CHAIN_ID_BYTES);
  const shard = r.uint('header.shard', 0xffff);
  const height = r.uint('header.height');
  const epoch = r.uint('header.epoch');
  const view = r.uint('header.view', 0xffffffff);
  const parent = r.bytesField('header.parent', HASH_BYTES);
  const txRoot = r.bytesField('header.txRoot', HASH_BYTES);
  const stateRoot = r.bytesField('header.stateRoot', HASH_BYTES);
  const proposer = r.uint('header.proposer', 0xffff);
  const time = r.uint('header.time');
  const txCount = r.uint('header.txCount');
  const lastCommit = r.bytesField('header.lastCommit', HASH_BYTES);
  const bodyBytes = r.bytes.subarray(start, r.pos);
  const proposerSignature = r.bytesField('header.proposerSignature', BLS_SIGNATURE_BYTES);
  return {
    header: {
      chainId,
      shard,
      height,
      epoch,
      view,
      parent,
      txRoot,
      stateRoot,
      proposer,
      time,
      txCount,
      lastCommit,
      proposerSignature,
    },
    bodyBytes,
  };
}

export function decodeBlockHeader(bytes: Uint8Array): BlockHeader {
  assertMaxSize(bytes, MAX_HEADER_BYTES, 'header');
  const r = new CborReader(bytes);
  const { header } = readBlockHeader(r);
  r.end('header');
  return header;
}

/** The message committee members BLS-sign to vote for a block in a phase of a view. */
export function voteMessage(crypto: Crypto, phase: number, view: number, blockId: Uint8Array): Uint8Array {
  const pv = new Uint8Array(5);
  pv[0] = phase;
  new DataView(pv.buffer).setUint32(1, view);
  return taggedHash(crypto, DomainTag.vote, pv, blockId);
}

export function writeFinalityCertificate(w: CborWriter, c: FinalityCertificate): void {
  writeEnvelope(w, ObjectType.finalityCertificate, 6);
  w.bytes(c.blockId).uint(c.shard).uint(c.height).uint(c.epoch).uint(c.view);
  writeCollectiveSignature(w, c.signature);
}

export function encodeFinalityCertificate(c: FinalityCertificate): Uint8Array {
  const w = new CborWriter(192);
  writeFinalityCertificate(w, c);
  return w.finish();
}

export function readFinalityCertificate(r: CborReader): FinalityCertificate {
  readEnvelope(r, ObjectType.finalityCertificate, 6);
  const blockId = r.bytesField('certificate.blockId', HASH_BYTES);
  const shard = r.uint('certificate.shard', 0xffff);
  const height = r.uint('certificate.height');
  const epoch = r.uint('certificate.epoch');
  const view = r.uint('certificate.view', 0xffffffff);
  const signature = readCollectiveSignature(r, 'certificate.signature');
  return { blockId, shard, height, epoch, view, signature };
}

export function decodeFinalityCertificate(bytes: Uint8Array): FinalityCertificate {
  assertMaxSize(bytes, MAX_CERTIFICATE_BYTES, 'certificate');
  const r = new CborReader(bytes);
  const c = readFinalityCertificate(r);
  r.end('certificate');
  return c;
}
