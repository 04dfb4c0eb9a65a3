/**
 * What the gateway answers light clients, independent of the transport: the HTTP routes (routes/*.ts) and
 * the MQTT bridge (gateway/mqtt) both call these, so a device gets the same proofs over either.
 */
import { equalBytes } from '../../core/bytes.js';
import type { Committee } from '../../core/committee.js';
import { merkleProof } from '../../core/merkle.js';
import type { StateProof, TxInclusionProof } from '../../core/proofs.js';
import type { StateNamespaceName } from '../../core/state.js';
import type { StateBlock } from '../../core/state-block.js';
import { ApiError } from './errors.js';
import type { ApiNode } from './interface.js';

/** State blocks one sparse GetStateBlocks reads at most (LMDB gets: ~10 ms). */
const MAX_SPARSE_SCAN = 4096;

type QueryNode = Pick<ApiNode, 'crypto' | 'state' | 'store' | 'mempool' | 'txTracker' | 'gossip'>;

/** A record's proof under the latest state block's root. Throws NOT_YET_AVAILABLE before the first one. */
export function proveAtLatestStateBlock(
  node: Pick<ApiNode, 'state' | 'store'>,
  namespace: StateNamespaceName,
  id: Uint8Array,
): { stateBlock: StateBlock; proof: StateProof } {
  const sb = node.store.latestStateBlock();
  if (!sb) {
    throw new ApiError(503, 'NOT_YET_AVAILABLE', 'no state block yet: retry, or ask with ?at=latest');
  }
  return { stateBlock: sb, proof: node.state.prove(namespace, id, sb.toHeight) };
}

export type TxStatusInfo =
  | { status: 'grade2'; height: number; index: number; txBytes: Uint8Array; proof: TxInclusionProof }
  | {
      status: 'grade1';
      height: number;
      index: number;
      view: number;
      blockId: Uint8Array;
      proof: TxInclusionProof;
    }
  | { status: 'pending'; txBytes: Uint8Array }
  | { status: 'unknown' };

/** Where a transaction is, with what proves it: final (grade 2), proposed (grade 1), pending or unknown. */
export function txStatusOf(node: QueryNode, id: Uint8Array): TxStatusInfo {
  const final = node.store.getTransaction(id);
  if (final) {
    return {
      status: 'grade2',
      height: final.height,
      index: final.index,
      txBytes: final.txBytes,
      proof: final.proof,
    };
  }
  const proposed = node.txTracker.grade1(id);
  if (proposed) {
    const { block, index } = proposed;
    return {
      status: 'grade1',
      height: block.height,
      index,
      view: block.header.view,
      blockId: block.blockId,
      proof: { header: block.header, proof: merkleProof(node.crypto, block.txIds, index), certificate: null },
    };
  }
  const pending = node.mempool.get(id);
  if (pending) return { status: 'pending', txBytes: pending.bytes };
  return { status: 'unknown' };
}

/** Admits one encoded transaction to the mempool (typed refusals keep their codes), tracks and gossips it. */
export function admitTx(node: QueryNode, bytes: Uint8Array): { id: Uint8Array; status: 'pending' } {
  const pending = node.mempool.add(bytes, node.state, Date.now());
  node.txTracker.submit(pending.id);
  node.gossip.push(pending.bytes);
  return { id: pending.id, status: 'pending' };
}

/** The committee a state block names next when it changes committee (null within an epoch). */
export function nextCommitteeOf(node: Pick<ApiNode, 'store'>, sb: StateBlock): Committee | null {
  if (equalBytes(sb.committee, sb.nextCommittee)) return null;
  const c = node.store.getCommittee(sb.nextCommittee);
  if (!c) throw new ApiError(503, 'UNAVAILABLE', `committee of state block ${sb.index + 1} not stored`);
  return c;
}

/**
 * State blocks from `fromIndex`, oldest first, each with the committee it names next at a change. Sparse:
 * only the committee changes and the latest (what a light client needs to reach the current committee).
 * Stops at `maxSteps` steps or once `maxBytes` (estimated) are reached, with at least one step.
 */
export function stateBlocksFrom(
  node: Pick<ApiNode, 'store'>,
  fromIndex: number,
  opts: { maxSteps: number; maxBytes: number; sparse: boolean },
): { latestIndex: number; items: { stateBlock: StateBlock; nextCommittee: Committee | null }[] } {
  const latest = node.store.latestStateBlock();
  if (!latest) throw new ApiError(503, 'NOT_YET_AVAILABLE', 'no state block yet');
  const items: { stateBlock: StateBlock; nextCommittee: Committee | null }[] = [];
  let bytes = 0;
  let scanned = 0;
  for (let i = fromIndex; i <= latest.index && items.length < opts.maxSteps; i++) {
    const sb = i === latest.index ? latest : node.store.getStateBlock(i);
    if (!sb) throw new ApiError(404, 'NOT_FOUND', `no state block ${i}`);
    const change = !equalBytes(sb.committee, sb.nextCommittee);
    // A sparse scan is bounded per request; where it stops it sends that block (the device asks on from it).
    const lastScan = ++scanned >= MAX_SPARSE_SCAN;
    if (opts.sparse && !change && i !== latest.index && !lastScan) continue;
    const nextCommittee = nextCommitteeOf(node, sb);
    // ~300 bytes per state block, ~56 per committee member (measured: protocol.md §16.2).
    const size = 300 + (nextCommittee ? 32 + 56 * nextCommittee.members.length : 0);
    if (items.length > 0 && bytes + size > opts.maxBytes) break;
    items.push({ stateBlock: sb, nextCommittee });
    bytes += size;
    if (lastScan) break;
  }
  return { latestIndex: latest.index, items };
}
