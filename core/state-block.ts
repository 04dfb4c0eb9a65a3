/**
 * Micro state blocks (docs/protocol.md §State blocks): every K blocks a shard's committee collectively
 * signs a summary of the shard's state. Light clients follow state blocks only; new or crashed validators
 * start from the latest one plus a state snapshot checked against its root; older blocks may be pruned.
 *
 * StateBlock = [1, 5, body, collectiveSignature]
 *   body = [chainId, shard, epoch, index, fromHeight, toHeight, stateRoot, previous, committee, nextCommittee]
 *   stateBlockId = H("iosnet/state-block/v1", body bytes), signed by more than 2/3 of `committee`'s weight.
 *   `index` counts state blocks from 0; `previous` is the id of state block index-1 (32 zero bytes for 0);
 *   `committee` is the hash of the committee that signs this block, `nextCommittee` the hash of the one that
 *   signs the next. They differ exactly at an epoch boundary: that block is a committee transition.
 */
import { CborReader, CborWriter } from './cbor.js';
import { type CollectiveSignature, readCollectiveSignature, writeCollectiveSignature } from './committee.js';
import type { Crypto } from './crypto.js';
import { invalidValue } from './errors.js';
import { DomainTag, taggedHash } from './hash.js';
import { HASH_BYTES, MAX_CHAIN_ID_BYTES } from './identity.js';
import { assertMaxSize, ObjectType, readEnvelope, writeEnvelope } from './object.js';

export const MAX_STATE_BLOCK_BYTES = 1024;
export const ZERO_HASH = /* @__PURE__ */ new Uint8Array(32);

export interface StateBlockFields {
  readonly chainId: string;
  readonly shard: number;
  readonly epoch: number;
  readonly index: number;
  readonly fromHeight: number;
  readonly toHeight: number;
  readonly stateRoot: Uint8Array;
  readonly previous: Uint8Array;
  readonly committee: Uint8Array;
  readonly nextCommittee: Uint8Array;
}

export interface StateBlock extends StateBlockFields {
  readonly signature: CollectiveSignature;
}

export function encodeStateBlockBody(s: StateBlockFields): Uint8Array {
  const w = new CborWriter(256);
  writeStateBlockBody(w, s);
  return w.finish();
}

function writeStateBlockBody(w: CborWriter, s: StateBlockFields): void {
  w.array(10).text(s.chainId).uint(s.shard).uint(s.epoch).uint(s.index).uint(s.fromHeight).uint(s.toHeight);
  w.bytes(s.stateRoot).bytes(s.previous).bytes(s.committee).bytes(s.nextCommittee);
}

export function stateBlockIdOf(crypto: Crypto, s: StateBlockFields): Uint8Array {
  return taggedHash(crypto, DomainTag.stateBlock, encodeStateBlockBody(s));
}

export function writeStateBlock(w: CborWriter, s: StateBlock): void {
  writeEnvelope(w, ObjectType.stateBlock, 2);
  writeStateBlockBody(w, s);
  writeCollectiveSignature(w, s.signature);
}

export function encodeStateBlock(s: StateBlock): Uint8Array {
  const w = new CborWriter(384);
  writeStateBlock(w, s);
  return w.finish();
}

export function readStateBlock(r: CborReader): StateBlock {
  readEnvelope(r, ObjectType.stateBlock, 2);
  r.array('stateBlock.body', 10);
  const chainId = r.text('stateBlock.chainId', MAX_CHAIN_ID_BYTES);
  const shard = r.uint('stateBlock.shard', 0xffff);
  const epoch = r.uint('stateBlock.epoch');
  const index = r.uint('stateBlock.index');
  const fromHeight = r.uint('stateBlock.fromHeight');
  const toHeight = r.uint('stateBlock.toHeight');
  if (toHeight < fromHeight) {
    invalidValue('stateBlock.toHeight', 'toHeight is below fromHeight');
  }
  const stateRoot = r.bytesField('stateBlock.stateRoot', HASH_BYTES);
  const previous = r.bytesField('stateBlock.previous', HASH_BYTES);
  const committee = r.bytesField('stateBlock.committee', HASH_BYTES);
  const nextCommittee = r.bytesField('stateBlock.nextCommittee', HASH_BYTES);
  const signature = readCollectiveSignature(r, 'stateBlock.signature');
  return {
    chainId,
    shard,
    epoch,
    index,
    fromHeight,
    toHeight,
    stateRoot,
    previous,
    committee,
    nextCommittee,
    signature,
  };
}

export function decodeStateBlock(bytes: Uint8Array): StateBlock {
  assertMaxSize(bytes, MAX_STATE_BLOCK_BYTES, 'stateBlock');
  const r = new CborReader(bytes);
  const s = readStateBlock(r);
  r.end('stateBlock');
  return s;
}
