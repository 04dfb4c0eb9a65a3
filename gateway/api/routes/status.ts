/** GET /status: where this gateway is, what it holds, who it talks to, and the committee of the epoch. */
import { toHex } from '../../../core/bytes.js';
import { believability } from '../../consensus/believability.js';
import { epochOf } from '../../consensus/epochs.js';
import { ApiError } from '../errors.js';
import type { ApiNode } from '../interface.js';
import { uintParam } from '../params.js';

export function committeeView(node: ApiNode, epoch: number) {
  const { state, genesis } = node;
  const prepared = node.hooks.committee(state, epoch);
  const byKey = new Map(state.listValidators().map((v) => [toHex(v.blsPublicKey), v]));
  return prepared.committee.members.map((m, index) => {
    const v = byKey.get(toHex(m.blsPublicKey));
    const stake = v ? state.getAccount(v.owner).staked : 0n;
    const b = v ? believability({ ...v, stake }, genesis.params) : undefined;
    return {
      index,
      blsPublicKey: m.blsPublicKey,
      owner: v?.owner ?? null,
      weight: m.weight,
      league: prepared.league.has(index),
      /** The weight the validator would have now (its committee weight was frozen two epochs ago). */
      believability: b?.weight ?? 0n,
      stake,
      servi: v?.servi ?? 0,
      reputationPpm: b?.reputationPpm ?? 0n,
      reviewPpm: b?.reviewPpm ?? 0n,
      behaviourPpm: b?.behaviourPpm ?? 0n,
      done: v?.done ?? 0,
      missed: v?.missed ?? 0,
      slashed: v?.slashed ?? false,
    };
  });
}

/**
 * `?latencySince=MS` (the gateway clock's Unix ms) limits the latency percentiles to samples taken since then,
 * so a benchmark can read one phase of its load apart from the one before.
 */
export function status(node: ApiNode, query?: URLSearchParams) {
  let latencySince: number | undefined;
  for (const [k, v] of query ?? []) {
    if (k !== 'latencySince')
      throw new ApiError(400, 'INVALID_PARAM', `unknown query parameter ${k}`, { param: k });
    latencySince = uintParam(v, k);
  }
  const height = node.consensus.height;
  const epoch = epochOf(height, node.genesis.params);
  const latest = node.store.latestStateBlock();
  return {
    chainId: node.genesis.chainId,
    genesisHash: node.genesisHash,
    nodeId: node.network.peerId,
    height,
    finalizedHeight: node.store.finalizedHeight,
    view: node.consensus.view,
    epoch,
    latestStateBlock: latest ? latest.index : null,
    mempool: { size: node.mempool.size, bytes: node.mempool.bytes },
    peers: node.network.peers().map((p) => ({
      peerId: p.peerId,
      remoteAddress: p.remoteAddress,
      inbound: p.inbound,
    })),
    txPerSecond: Math.round(node.txTracker.txPerSecond() * 100) / 100,
    latencyMs: {
      grade1: node.txTracker.latencySummary(1, latencySince),
      grade2: node.txTracker.latencySummary(2, latencySince),
    },
    committee: committeeView(node, epoch),
  };
}
