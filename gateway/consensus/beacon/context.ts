/**
 * The public context of one DKG / beacon instance: the committee of (chainId, shard, epoch) with each
 * member's Ed25519 node key and weight, in committee order. Everything derived from it (share allocation,
 * decoded node keys, the context bytes bound into every hash) is computed once per context object.
 */
import { concatBytes, u64be, utf8 } from '../../../core/bytes.js';
import { ArgumentError } from '../../../core/errors.js';
import { MAX_CHAIN_ID_BYTES } from '../../../core/identity.js';
import { allocateShares, type ShareAllocation } from './allocation.js';
import { decodeNodeKey, type EdPointT, u16be } from './edwards.js';

/** Committee indexes are u16 on the wire (and core's committees are at most 1024 members). */
export const MAX_BEACON_MEMBERS = 1024;

export interface BeaconMember {
  /** 32-byte Ed25519 node public key: shares are encrypted to it. */
  readonly nodePublicKey: Uint8Array;
  readonly weight: number;
}

export interface BeaconContext {
  readonly chainId: string;
  readonly shard: number;
  readonly epoch: number;
  readonly members: readonly BeaconMember[];
  /** Consensus parameter; default 4n. */
  readonly maxTotalShares?: number;
}

export interface PreparedContext {
  readonly ctx: BeaconContext;
  readonly alloc: ShareAllocation;
  /** utf8(chainId) || u16be(shard) || u64be(epoch): bound into every DKG hash (fixed-length fields follow). */
  readonly contextBytes: Uint8Array;
  readonly nodeKeys: readonly EdPointT[];
  readonly totalWeight: number;
}

const cache = new WeakMap<BeaconContext, PreparedContext>();

export function contextBytes(chainId: string, shard: number, epoch: number): Uint8Array {
  return concatBytes(utf8(chainId), u16be(shard), u64be(epoch));
}

/** Validates and prepares a context (cached per object: do not mutate a context after use). */
export function prepareContext(ctx: BeaconContext): PreparedContext {
  const hit = cache.get(ctx);
  if (hit) return hit;
  if (typeof ctx.chainId !== 'string' || utf8(ctx.chainId).length > MAX_CHAIN_ID_BYTES) {
    throw new ArgumentError('ctx.chainId', `expected text of at most ${MAX_CHAIN_ID_BYTES} bytes`);
  }
  if (!Number.isInteger(ctx.shard) || ctx.shard < 0 || ctx.shard > 0xffff) {
    throw new ArgumentError('ctx.shard', 'expected an integer within 0..65535');
  }
  if (!Number.isSafeInteger(ctx.epoch) || ctx.epoch < 0) {
    throw new ArgumentError('ctx.epoch', 'expected a non-negative safe integer');
  }
  const n = ctx.members.length;
  if (n < 1 || n > MAX_BEACON_MEMBERS) {
    throw new ArgumentError('ctx.members', `expected 1..${MAX_BEACON_MEMBERS} members`);
  }
  const nodeKeys: EdPointT[] = [];
  const seen = new Set<string>();
  ctx.members.forEach((m, i) => {
    const key = decodeNodeKey(m.nodePublicKey);
    if (!key) throw new ArgumentError(`ctx.members[${i}].nodePublicKey`, 'not a valid Ed25519 public key');
    const id = Buffer.from(m.nodePublicKey).toString('hex');
    if (seen.has(id)) throw new ArgumentError(`ctx.members[${i}].nodePublicKey`, 'duplicate node key');
    seen.add(id);
    nodeKeys.push(key);
  });
  const weights = ctx.members.map((m) => m.weight);
  const alloc = allocateShares(weights, ctx.maxTotalShares ?? 4 * n);
  const prepared: PreparedContext = {
    ctx,
    alloc,
    contextBytes: contextBytes(ctx.chainId, ctx.shard, ctx.epoch),
    nodeKeys,
    totalWeight: alloc.totalWeight,
  };
  cache.set(ctx, prepared);
  return prepared;
}
