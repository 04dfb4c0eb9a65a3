/**
 * Who sits in a committee and who proposes (docs/consensus.md §2.3). Integer arithmetic only: every node
 * must reach the same answer, and Math.log/Math.pow are not specified to the last bit across engines.
 *
 * Weighted sampling without replacement is done by sequential draws: draw j picks a candidate with
 * probability weight / (total weight not yet drawn), with the uniform integer H(tag, seed || u32(j)) mod
 * remaining weight (bias below 2^-200 for any realistic total). This is the same distribution as
 * Efraimidis–Spirakis priorities.
 */
import { compareBytes } from '../../core/bytes.js';
import type { Committee, CommitteeMember } from '../../core/committee.js';
import { sortMembers } from '../../core/committee.js';
import type { Crypto } from '../../core/crypto.js';
import { DomainTag, taggedHash } from '../../core/hash.js';

export interface Candidate {
  /** Unique per validator; members are identified by it across epochs. */
  readonly blsPublicKey: Uint8Array;
  readonly weight: bigint;
}

function uniformBelow(
  crypto: Crypto,
  tag: string,
  seed: Uint8Array,
  counter: Uint8Array,
  bound: bigint,
): bigint {
  const h = taggedHash(crypto, tag, seed, counter);
  let x = 0n;
  for (const b of h) x = (x << 8n) | BigInt(b);
  return x % bound;
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** Draws `count` distinct candidates, each draw weighted by weight; `drawBase` separates draw sequences. */
function drawWeighted(
  crypto: Crypto,
  seed: Uint8Array,
  pool: Candidate[],
  count: number,
  drawBase: number,
): Candidate[] {
  // Canonical order first, so the result depends on the set, not on how the caller listed it.
  const remaining = [...pool].sort((a, b) => compareBytes(a.blsPublicKey, b.blsPublicKey));
  let total = remaining.reduce((s, c) => s + c.weight, 0n);
  const chosen: Candidate[] = [];
  for (let j = 0; j < count && remaining.length > 0 && total > 0n; j++) {
    let r = uniformBelow(crypto, DomainTag.sample, seed, u32(drawBase + j), total);
    let i = 0;
    while (r >= remaining[i]!.weight) {
      r -= remaining[i]!.weight;
      i++;
    }
    const [c] = remaining.splice(i, 1);
    chosen.push(c!);
    total -= c!.weight;
  }
  return chosen;
}

/**
 * The committee of an epoch: everyone eligible if they fit; otherwise keep floor(2n/3)+1 of the previous
 * members that are still eligible (so fewer than n/3 seats change) and fill the rest from all eligible
 * candidates, both by weighted draws. Weights are the candidates' believability.
 */
export function selectCommittee(
  crypto: Crypto,
  opts: {
    chainId: string;
    shard: number;
    epoch: number;
    size: number;
    leagueSize: number;
    seed: Uint8Array;
    eligible: readonly Candidate[];
    previous: readonly Uint8Array[];
  },
): Committee {
  const eligible = opts.eligible.filter((c) => c.weight > 0n);
  let picked: Candidate[];
  if (eligible.length <= opts.size) {
    picked = eligible;
  } else {
    const prev = new Set(opts.previous.map((k) => k.join(',')));
    const stay = eligible.filter((c) => prev.has(c.blsPublicKey.join(',')));
    const keep = drawWeighted(
      crypto,
      opts.seed,
      stay,
      Math.min(stay.length, Math.floor((2 * opts.size) / 3) + 1),
      0,
    );
    const kept = new Set(keep.map((c) => c.blsPublicKey.join(',')));
    const rest = eligible.filter((c) => !kept.has(c.blsPublicKey.join(',')));
    picked = [...keep, ...drawWeighted(crypto, opts.seed, rest, opts.size - keep.length, 1 << 16)];
  }
  if (picked.length === 0) throw new RangeError('no eligible validator for the committee');
  const members: CommitteeMember[] = sortMembers(
    picked.map((c) => ({ blsPublicKey: c.blsPublicKey, weight: Number(c.weight) })),
  );
  return {
    chainId: opts.chainId,
    shard: opts.shard,
    epoch: opts.epoch,
    leagueSize: Math.min(opts.leagueSize, members.length),
    members,
  };
}

/** The proposer of (height, view): a league member drawn with probability proportional to its weight. */
export function proposerIndex(
  crypto: Crypto,
  committee: Committee,
  league: ReadonlySet<number>,
  seed: Uint8Array,
  height: number,
  view: number,
): number {
  const leagueIdx = [...league].sort((a, b) => a - b);
  const total = leagueIdx.reduce((s, i) => s + BigInt(committee.members[i]!.weight), 0n);
  const hv = new Uint8Array(12);
  const dv = new DataView(hv.buffer);
  dv.setBigUint64(0, BigInt(height));
  dv.setUint32(8, view);
  let r = uniformBelow(crypto, DomainTag.proposer, seed, hv, total);
  for (const i of leagueIdx) {
    const w = BigInt(committee.members[i]!.weight);
    if (r < w) return i;
    r -= w;
  }
  return leagueIdx[leagueIdx.length - 1]!;
}
