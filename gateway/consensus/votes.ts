/**
 * The votes of one height (docs/consensus.md §4): tallies per (phase, view, block), certificates, and
 * equivocation detection.
 *
 * Signatures are checked lazily and in bulk: a vote enters the tally unverified, and when a block's tally
 * crosses 2/3 the pending votes for it are checked with ONE FastAggregateVerify (one pairing check instead
 * of one per vote; blst: ~1.2 ms either way). Only if that fails are they checked one by one and the
 * forgeries dropped (the sender is reported). Decisions that other thresholds drive (nil timeouts, view
 * jumps) count only individually verified votes, so a peer forging votes of others cannot move a node.
 */

import { equalBytes, toHex } from '../../core/bytes.js';
import {
  type CollectiveSignature,
  hasSupermajority,
  makeBitmap,
  type PreparedCommittee,
} from '../../core/committee.js';
import type { Crypto } from '../../core/crypto.js';
import { type FinalityCertificate, voteMessage } from '../../core/header.js';
import type { Vote, VotePhaseValue } from './messages.js';

interface Entry {
  readonly vote: Vote;
  readonly bytes: Uint8Array;
  /** Who relayed it (peer id or 'self'): reported if the signature turns out forged. */
  readonly from: string;
  verified: boolean;
}

export interface Certificate {
  readonly certificate: FinalityCertificate;
  /** Aggregate of the signers' state block signatures, when every signer carried one. */
  /** The state block's collective signature, when the certificate closes a state block and enough signed it. */
  readonly stateBlock: CollectiveSignature | null;
}

export interface AddVoteResult {
  readonly accepted: boolean;
  /** Two signed votes of one member for one (phase, view) on different blocks: evidence. */
  readonly equivocation?: readonly [Uint8Array, Uint8Array];
}

type Round = Map<number, Entry>; // voter -> first vote

export class HeightVotes {
  private readonly rounds = new Map<string, Round>();
  /** Forged votes found during bulk verification: the caller penalizes their senders. */
  readonly forgedFrom: string[] = [];

  constructor(
    private readonly crypto: Crypto,
    private readonly committee: PreparedCommittee,
    readonly shard: number,
    readonly height: number,
  ) {}

  private round(phase: VotePhaseValue, view: number): Round {
    const k = `${phase}/${view}`;
    let r = this.rounds.get(k);
    if (!r) {
      r = new Map();
      this.rounds.set(k, r);
    }
    return r;
  }

  private verifyOne(e: Entry): boolean {
    const key = this.committee.keys[e.vote.voter]!;
    const ok = this.crypto.bls.verify(
      e.vote.signature,
      voteMessage(this.crypto, e.vote.phase, e.vote.view, e.vote.blockId),
      key,
    );
    e.verified = ok;
    return ok;
  }

  /** Adds a decoded vote for this height; checks only cheap fields here. */
  add(vote: Vote, bytes: Uint8Array, from: string, verified = false): AddVoteResult {
    if (vote.height !== this.height || vote.shard !== this.shard) return { accepted: false };
    if (vote.voter >= this.committee.committee.members.length) return { accepted: false };
    const r = this.round(vote.phase, vote.view);
    const prior = r.get(vote.voter);
    const entry: Entry = { vote, bytes, from, verified };
    if (prior) {
      if (equalBytes(prior.vote.blockId, vote.blockId)) return { accepted: false };
      // Another block from the same member in the same phase and view: evidence if both are genuine.
      if (!(prior.verified || this.verifyOne(prior))) {
        this.forgedFrom.push(prior.from);
        r.set(vote.voter, entry);
        return { accepted: true };
      }
      if (entry.verified || this.verifyOne(entry))
        return { accepted: false, equivocation: [prior.bytes, bytes] };
      this.forgedFrom.push(from);
      return { accepted: false };
    }
    r.set(vote.voter, entry);
    return { accepted: true };
  }

  /** The wire bytes of the votes for `blockId` in (phase, view): re-sent to peers that may have missed them. */
  voteBytes(phase: VotePhaseValue, view: number, blockId: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const e of this.round(phase, view).values())
      if (equalBytes(e.vote.blockId, blockId)) out.push(e.bytes);
    return out;
  }

  /** Weight voting for `blockId` in (phase, view), verified or not. */
  private tally(r: Round, blockId: Uint8Array): number {
    let w = 0;
    for (const e of r.values())
      if (equalBytes(e.vote.blockId, blockId)) w += this.committee.committee.members[e.vote.voter]!.weight;
    return w;
  }

  /**
   * A certificate for (phase, view, blockId) if more than 2/3 of the weight voted for it with genuine
   * signatures. Verifies pending votes in bulk; drops forgeries.
   */
  certificate(
    phase: VotePhaseValue,
    view: number,
    blockId: Uint8Array,
    epoch: number,
    /** At a state-block height: the state block this node computed; the shares that sign it are aggregated. */
    stateBlockId?: Uint8Array,
  ): Certificate | undefined {
    const r = this.round(phase, view);
    const total = this.committee.totalWeight;
    if (!hasSupermajority(this.tally(r, blockId), total)) return undefined;
    const entries = [...r.values()].filter((e) => equalBytes(e.vote.blockId, blockId));
    const pending = entries.filter((e) => !e.verified);
    if (pending.length > 0) {
      const message = voteMessage(this.crypto, phase, view, blockId);
      const agg = this.crypto.bls.aggregateSignatures(pending.map((e) => e.vote.signature));
      const bulkOk =
        agg !== undefined &&
        this.crypto.bls.verifyAggregate(
          agg,
          message,
          pending.map((e) => this.committee.keys[e.vote.voter]!),
        );
      if (bulkOk) {
        for (const e of pending) e.verified = true;
      } else {
        for (const e of pending) {
          if (!this.verifyOne(e)) {
            r.delete(e.vote.voter);
            this.forgedFrom.push(e.from);
          }
        }
        if (!hasSupermajority(this.tally(r, blockId), total)) return undefined;
      }
    }
    const signers = [...r.values()].filter((e) => equalBytes(e.vote.blockId, blockId));
    const signature = this.crypto.bls.aggregateSignatures(signers.map((e) => e.vote.signature));
    if (!signature) return undefined;
    const stateBlock = stateBlockId ? this.stateBlockSignature(signers, stateBlockId) : null;
    return {
      certificate: {
        blockId,
        shard: this.shard,
        height: this.height,
        epoch,
        view,
        signature: {
          signers: makeBitmap(
            members(this.committee),
            signers.map((e) => e.vote.voter),
          ),
          signature,
        },
      },
      stateBlock,
    };
  }

  /**
   * The collective signature of a state block from the state-block shares of a commit certificate's signers:
   * only shares over `stateBlockId` count (a validator whose state-block chain has a gap signs none, and one
   * that computed another state block signs something else), and only if they carry more than 2/3 of the
   * weight. One aggregate verify in the normal case; each share alone when that fails.
   */
  private stateBlockSignature(
    signers: readonly Entry[],
    stateBlockId: Uint8Array,
  ): CollectiveSignature | null {
    let shares = signers.filter((e) => e.vote.stateBlockSignature);
    const verifyAll = (list: readonly Entry[]) => {
      const agg = this.crypto.bls.aggregateSignatures(list.map((e) => e.vote.stateBlockSignature!));
      return (
        agg !== undefined &&
        this.crypto.bls.verifyAggregate(
          agg,
          stateBlockId,
          list.map((e) => this.committee.keys[e.vote.voter]!),
        )
      );
    };
    if (shares.length === 0) return null;
    if (!verifyAll(shares)) shares = shares.filter((e) => verifyAll([e]));
    const weight = shares.reduce((w, e) => w + this.committee.committee.members[e.vote.voter]!.weight, 0);
    if (shares.length === 0 || !hasSupermajority(weight, this.committee.totalWeight)) return null;
    const signature = this.crypto.bls.aggregateSignatures(shares.map((e) => e.vote.stateBlockSignature!));
    if (!signature) return null;
    return {
      signers: makeBitmap(
        members(this.committee),
        shares.map((e) => e.vote.voter),
      ),
      signature,
    };
  }

  /** Blocks that have a tally above 2/3 in (phase, view) (candidates for certificate()). */
  quorumBlocks(phase: VotePhaseValue, view: number): Uint8Array[] {
    const r = this.round(phase, view);
    const seen = new Map<string, Uint8Array>();
    for (const e of r.values()) seen.set(toHex(e.vote.blockId), e.vote.blockId);
    return [...seen.values()].filter((id) => hasSupermajority(this.tally(r, id), this.committee.totalWeight));
  }

  /** Views in which votes of `phase` were seen, ascending. */
  views(phase: VotePhaseValue): number[] {
    const out: number[] = [];
    for (const k of this.rounds.keys()) {
      const [ph, v] = k.split('/').map(Number);
      if (ph === phase) out.push(v!);
    }
    return out.sort((a, b) => a - b);
  }

  /**
   * Whether more than 2/3 of the weight voted anything in (phase, view), counting genuine votes only.
   * Signatures are checked only once the unverified total already exceeds 2/3 (the cheap test first).
   */
  verifiedWeightIfQuorum(phase: VotePhaseValue, view: number): boolean {
    let w = 0;
    for (const e of this.round(phase, view).values())
      w += this.committee.committee.members[e.vote.voter]!.weight;
    if (!hasSupermajority(w, this.committee.totalWeight)) return false;
    return hasSupermajority(this.verifiedWeight(phase, view), this.committee.totalWeight);
  }

  /** Verified weight that voted anything in (phase, view): "more than 2/3 voted, no single value". */
  verifiedWeight(phase: VotePhaseValue, view: number): number {
    let w = 0;
    for (const e of this.round(phase, view).values()) {
      if (e.verified || this.verifyOne(e)) w += this.committee.committee.members[e.vote.voter]!.weight;
    }
    return w;
  }

  /** Verified weight of members with any vote in a view above `view`, per view: for view synchronisation. */
  highestViewAbove(view: number): number | undefined {
    const perView = new Map<number, Set<number>>();
    // Cheap test first: unverified weight above `view` must exceed 1/3 before any signature is checked.
    let cheap = 0;
    const seen = new Set<number>();
    for (const [k, r] of this.rounds) {
      if (Number(k.split('/')[1]) <= view) continue;
      for (const e of r.values()) {
        if (!seen.has(e.vote.voter)) cheap += this.committee.committee.members[e.vote.voter]!.weight;
        seen.add(e.vote.voter);
      }
    }
    if (cheap * 3 <= this.committee.totalWeight) return undefined;
    for (const [k, r] of this.rounds) {
      const v = Number(k.split('/')[1]);
      if (v <= view) continue;
      for (const e of r.values()) {
        if (!e.verified && !this.verifyOne(e)) continue;
        const s = perView.get(v) ?? new Set<number>();
        perView.set(v, s);
        s.add(e.vote.voter);
      }
    }
    let best: number | undefined;
    for (const [v, voters] of perView) {
      let w = 0;
      for (const i of voters) w += this.committee.committee.members[i]!.weight;
      // More than 1/3: at least one honest member is in that view.
      if (w * 3 > this.committee.totalWeight && (best === undefined || v > best)) best = v;
    }
    return best;
  }
}

function members(c: PreparedCommittee): number {
  return c.committee.members.length;
}
