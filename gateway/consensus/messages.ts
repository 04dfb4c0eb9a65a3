/**
 * Consensus messages (docs/consensus.md §4.1, docs/protocol.md §13). Both are signed, self-contained objects
 * so that two of them are evidence of equivocation on their own.
 *
 * Proposal = [1, 19, block, view, polView, polCertificate | null, signature]
 *   signature = BLS by the proposer (header.proposer) over H("iosnet/proposal/v1", blockId || u32be(view) ||
 *   u32be(polView + 1)); polView = -1 (encoded 0 in the message) means a fresh block; otherwise the block had a
 *   prepare certificate in view polView, carried as polCertificate (a FinalityCertificate-shaped object whose
 *   signature is over the *prepare* vote message).
 * Vote = [1, 20, phase, shard, height, view, blockId, voter, signature, stateBlockSignature | null]
 *   signature = BLS by committee member `voter` over voteMessage(phase, view, blockId). A commit vote for the
 *   block that closes a state block interval also carries the member's signature of that state block's id.
 */
import { type Block, type KnownTxs, readBlock } from '../../core/block.js';
import { CborReader, CborWriter } from '../../core/cbor.js';
import type { Crypto } from '../../core/crypto.js';
import { invalidValue } from '../../core/errors.js';
import { DomainTag, taggedHash } from '../../core/hash.js';
import {
  type FinalityCertificate,
  readFinalityCertificate,
  VotePhase,
  writeFinalityCertificate,
} from '../../core/header.js';
import { BLS_SIGNATURE_BYTES, HASH_BYTES } from '../../core/identity.js';
import { assertMaxSize, ObjectType, readEnvelope, writeEnvelope } from '../../core/object.js';

export const MAX_VOTE_BYTES = 512;
export const MAX_VIEW = 0xffff_fffe;

export interface Proposal {
  readonly block: Block;
  /** Bytes of `block` exactly as received (hashing and re-broadcast use them, never a re-encoding). */
  readonly blockBytes: Uint8Array;
  readonly blockId: Uint8Array;
  readonly txIds: readonly Uint8Array[];
  readonly view: number;
  /** -1 for a fresh block. */
  readonly polView: number;
  readonly polCertificate: FinalityCertificate | null;
  readonly signature: Uint8Array;
}

export type VotePhaseValue = (typeof VotePhase)[keyof typeof VotePhase];

export interface Vote {
  readonly phase: VotePhaseValue;
  readonly shard: number;
  readonly height: number;
  readonly view: number;
  readonly blockId: Uint8Array;
  readonly voter: number;
  readonly signature: Uint8Array;
  readonly stateBlockSignature: Uint8Array | null;
}

export function proposalMessage(
  crypto: Crypto,
  blockId: Uint8Array,
  view: number,
  polView: number,
): Uint8Array {
  const vv = new Uint8Array(8);
  const dv = new DataView(vv.buffer);
  dv.setUint32(0, view);
  dv.setUint32(4, polView + 1);
  return taggedHash(crypto, DomainTag.proposal, blockId, vv);
}

/** The id a nil vote votes for at (shard, height): H("iosnet/nil/v1", chainId || u16be(shard) || u64be(height)). */
export function nilBlockId(crypto: Crypto, chainId: string, shard: number, height: number): Uint8Array {
  const sh = new Uint8Array(10);
  const dv = new DataView(sh.buffer);
  dv.setUint16(0, shard);
  dv.setBigUint64(2, BigInt(height));
  return taggedHash(crypto, DomainTag.nil, new TextEncoder().encode(chainId), sh);
}

export function encodeProposal(p: Omit<Proposal, 'block' | 'blockId' | 'txIds'>): Uint8Array {
  const w = new CborWriter(p.blockBytes.length + 512);
  writeEnvelope(w, ObjectType.proposal, 5);
  w.raw(p.blockBytes)
    .uint(p.view)
    .uint(p.polView + 1);
  if (p.polCertificate) writeFinalityCertificate(w, p.polCertificate);
  else w.null();
  w.bytes(p.signature);
  return w.finish();
}

/** `known`: transactions this node holds decoded (its mempool), taken instead of decoding them again. */
export function decodeProposal(
  crypto: Crypto,
  bytes: Uint8Array,
  maxBytes: number,
  known?: KnownTxs,
): Proposal {
  assertMaxSize(bytes, maxBytes, 'proposal');
  const r = new CborReader(bytes);
  readEnvelope(r, ObjectType.proposal, 5);
  const { block, bytes: blockBytes, blockId, txIds } = readBlock(crypto, r, known);
  const view = r.uint('proposal.view', MAX_VIEW);
  const polView = r.uint('proposal.polView', MAX_VIEW) - 1;
  if (polView >= view) invalidValue('proposal.polView', 'must be below the view');
  const polCertificate = r.nullIf() ? null : readFinalityCertificate(r);
  if (polView >= 0 !== (polCertificate !== null)) {
    invalidValue('proposal.polCertificate', 'present exactly when polView >= 0');
  }
  const signature = r.bytesField('proposal.signature', BLS_SIGNATURE_BYTES);
  r.end('proposal');
  return { block, blockBytes, blockId, txIds, view, polView, polCertificate, signature };
}

export function encodeVote(v: Vote): Uint8Array {
  const w = new CborWriter(256);
  writeEnvelope(w, ObjectType.vote, 8);
  w.uint(v.phase).uint(v.shard).uint(v.height).uint(v.view).bytes(v.blockId).uint(v.voter).bytes(v.signature);
  if (v.stateBlockSignature) w.bytes(v.stateBlockSignature);
  else w.null();
  return w.finish();
}

export function decodeVote(bytes: Uint8Array): Vote {
  assertMaxSize(bytes, MAX_VOTE_BYTES, 'vote');
  const r = new CborReader(bytes);
  readEnvelope(r, ObjectType.vote, 8);
  const phase = r.uint('vote.phase', VotePhase.commit);
  if (phase < VotePhase.prepare) invalidValue('vote.phase', 'must be 1 (prepare) or 2 (commit)');
  const shard = r.uint('vote.shard', 0xffff);
  const height = r.uint('vote.height');
  const view = r.uint('vote.view', MAX_VIEW);
  const blockId = r.bytesField('vote.blockId', HASH_BYTES);
  const voter = r.uint('vote.voter', 0xffff);
  const signature = r.bytesField('vote.signature', BLS_SIGNATURE_BYTES);
  const stateBlockSignature = r.nullIf()
    ? null
    : r.bytesField('vote.stateBlockSignature', BLS_SIGNATURE_BYTES);
  if (stateBlockSignature && phase !== VotePhase.commit) {
    invalidValue('vote.stateBlockSignature', 'only commit votes carry a state block signature');
  }
  r.end('vote');
  return {
    phase: phase as VotePhaseValue,
    shard,
    height,
    view,
    blockId,
    voter,
    signature,
    stateBlockSignature,
  };
}
