/**
 * Consensus bookkeeping inside block execution (gateway/state's SystemHooks; docs/consensus.md §2, §3, §6):
 * genesis records, servi and behaviour credits from each block's lastCommit, missed proposer turns,
 * evidence and slashing, beacon seeds, and the work at each epoch's last block.
 */

import { equalBytes, toHex } from '../../core/bytes.js';
import {
  bitmapIndexes,
  type Committee,
  type PreparedCommittee,
  prepareCommittee,
} from '../../core/committee.js';
import type { Crypto } from '../../core/crypto.js';
import { type Genesis, genesisHash } from '../../core/genesis.js';
import { addressOf } from '../../core/identity.js';
import type { Transaction } from '../../core/tx.js';
import {
  type BlockContext,
  type StateReader,
  type StateWriter,
  type SystemHooks,
  TxError,
  type ValidatorRecord,
} from '../state/interface.js';
import type { BeaconDriver } from './beacon-driver.js';
import { believability } from './believability.js';
import {
  fallbackSeed,
  genesisSeed,
  proposerSeed,
  readCandidates,
  readCommitteeRecord,
  readSeed,
  writeBeaconRecord,
  writeCandidates,
  writeCommitteeRecord,
} from './epoch-records.js';
import { epochKey, epochOf, isLastOfEpoch } from './epochs.js';
import { applyEvidence } from './evidence.js';
import { type Candidate, proposerIndex, selectCommittee } from './selection.js';

export interface ConsensusHooksDeps {
  readonly crypto: Crypto;
  /** DKG and beacon transactions (gateway/consensus/beacon-driver.ts); absent: fallback seeds only. */
  readonly beacon?: BeaconDriver;
}

/** Eligible validators with their believability (docs/consensus.md §2.2). */
export function eligibleCandidates(state: StateReader, genesis: Genesis): Candidate[] {
  const out: Candidate[] = [];
  for (const v of state.listValidators()) {
    if (v.slashed) continue;
    const account = state.getAccount(v.owner);
    if (account.staked < genesis.params.minValidatorStake) continue;
    const b = believability({ ...v, stake: account.staked }, genesis.params);
    if (b.weight >= 1n) out.push({ blsPublicKey: v.blsPublicKey, weight: b.weight });
  }
  return out;
}

/**
 * The committee of epochs 0 and 1: every eligible genesis validator (sampled if more than committeeSize)
 * with its genesis believability. A light client's or bootstrapping node's first trust anchor, computable
 * from the genesis alone: `candidates` defaults to what the genesis state yields (no reviews, no servi).
 */
export function genesisCommittee(
  crypto: Crypto,
  genesis: Genesis,
  candidates = genesisCandidates(crypto, genesis),
): Committee {
  return selectCommittee(crypto, {
    chainId: genesis.chainId,
    shard: 0,
    epoch: 0,
    size: genesis.params.committeeSize,
    leagueSize: genesis.params.leagueSize,
    seed: genesisSeed(crypto, genesisHash(crypto, genesis)),
    eligible: candidates,
    previous: [],
  });
}

/** eligibleCandidates of the genesis state, from the Genesis object (fresh validators: neutral reputation). */
export function genesisCandidates(crypto: Crypto, genesis: Genesis): Candidate[] {
  const out: Candidate[] = [];
  for (const v of genesis.validators) {
    const owner = addressOf(crypto, v.nodePublicKey);
    const stake = genesis.allocations.find((a) => equalBytes(a.address, owner))?.staked ?? 0n;
    if (stake < genesis.params.minValidatorStake) continue;
    const b = believability(
      { stake, servi: 0, done: 0, missed: 0, reviewScoreSum: 0n, reviewStakeSum: 0n, slashed: false },
      genesis.params,
    );
    if (b.weight >= 1n) out.push({ blsPublicKey: v.blsPublicKey, weight: b.weight });
  }
  return out;
}

export class ConsensusHooks implements SystemHooks {
  private genesis: Genesis | undefined;
  private readonly prepared = new Map<string, PreparedCommittee>();

  constructor(private readonly deps: ConsensusHooksDeps) {}

  private get crypto(): Crypto {
    return this.deps.crypto;
  }

  /** The committee of an epoch from the state, keys parsed once per committee. */
  committee(state: StateReader, epoch: number): PreparedCommittee {
    const c = readCommitteeRecord(state, epoch);
    if (!c) throw new RangeError(`no committee recorded for epoch ${epoch}`);
    const key = `${epoch}/${toHex(c.members[0]!.blsPublicKey)}/${c.members.length}`;
    let p = this.prepared.get(key);
    if (!p || !sameMembers(p.committee, c)) {
      p = prepareCommittee(this.crypto, c);
      this.prepared.set(key, p);
      if (this.prepared.size > 16) this.prepared.delete(this.prepared.keys().next().value!);
    }
    return p;
  }

  initGenesis(genesis: Genesis, state: StateWriter): void {
    this.genesis = genesis;
    const candidates = eligibleCandidates(state, genesis);
    const seed = genesisSeed(this.crypto, genesisHash(this.crypto, genesis));
    const first = genesisCommittee(this.crypto, genesis, candidates);
    writeCommitteeRecord(state, first);
    writeCommitteeRecord(state, { ...first, epoch: 1 });
    writeBeaconRecord(state, 0, { groupSignature: null, seed });
    writeBeaconRecord(state, 1, { groupSignature: null, seed });
    writeCandidates(state, 2, candidates);
  }

  beginBlock(ctx: BlockContext, state: StateWriter): void {
    const byKey = validatorsByBlsKey(state);
    const committee = this.committee(state, ctx.epoch);
    const members = committee.committee.members;
    // Commit votes carried by lastCommit: +1 servi and +1 done for each signer, +1 missed for the others.
    if (ctx.lastCommit) {
      const prev = this.committee(state, epochOf(ctx.height - 1, ctx.params));
      const signed = new Set(bitmapIndexes(ctx.lastCommit.signature.signers, prev.committee.members.length));
      prev.committee.members.forEach((m, i) => {
        const v = byKey.get(toHex(m.blsPublicKey));
        if (!v) return;
        state.putValidator(
          signed.has(i)
            ? { ...v, servi: Math.min(v.servi + 1, ctx.params.epochLength), done: v.done + 1 }
            : { ...v, missed: v.missed + 1 },
        );
      });
    }
    // The proposer spends servi for its final proposal; proposers of the views that failed missed a turn.
    const seed = proposerSeed(state, ctx.epoch);
    for (let view = 0; view < ctx.view; view++) {
      const i = proposerIndex(this.crypto, committee.committee, committee.league, seed, ctx.height, view);
      const v = state.getValidator(byKey.get(toHex(members[i]!.blsPublicKey))?.owner ?? new Uint8Array(32));
      if (v) state.putValidator({ ...v, missed: v.missed + 1 });
    }
    const proposer = state.getValidator(ctx.proposerOwner);
    if (proposer) {
      state.putValidator({
        ...proposer,
        servi: Math.max(0, proposer.servi - committee.committee.leagueSize),
        done: proposer.done + 1,
      });
    }
  }

  applySystemTx(ctx: BlockContext, tx: Transaction, txId: Uint8Array, state: StateWriter): void {
    const p = tx.body.payload;
    switch (p.kind) {
      case 'evidence':
        applyEvidence(this.crypto, this.requireGenesis(), ctx, p, txId, state, (epoch) =>
          this.committee(state, epoch),
        );
        return;
      case 'beacon':
      case 'dkgDeal':
      case 'dkgComplaint':
        if (!this.deps.beacon) throw new TxError('TX_UNSUPPORTED', `${p.kind}: this node runs no beacon`, {});
        this.deps.beacon.applyTx(ctx, tx, state, (epoch) => this.committee(state, epoch));
        return;
      default:
        throw new TxError('TX_INVALID', `${p.kind} is not a system transaction`, {});
    }
  }

  endBlock(ctx: BlockContext, state: StateWriter): void {
    if (!isLastOfEpoch(ctx.height, ctx.params)) return;
    const genesis = this.requireGenesis();
    const e = ctx.epoch;
    // Recent behaviour dominates: halve the counters at every boundary.
    for (const v of state.listValidators()) {
      if (v.done > 1 || v.missed > 1) state.putValidator({ ...v, done: v.done >> 1, missed: v.missed >> 1 });
    }
    this.deps.beacon?.endEpoch(ctx, state, (epoch) => this.committee(state, epoch));
    // seed_e: the beacon's, or the flagged fallback when it did not land in epoch e.
    let seed = readSeed(state, e);
    if (!seed) {
      seed = fallbackSeed(this.crypto, readSeed(state, e - 1)!, e);
      writeBeaconRecord(state, e, { groupSignature: null, seed });
    }
    // C_{e+2} from the candidates frozen at the end of e−1 and seed_e; freeze candidates for C_{e+3}.
    const byKey = validatorsByBlsKey(state);
    const candidates = (readCandidates(state, e + 2) ?? []).filter((c) => {
      const v = byKey.get(toHex(c.blsPublicKey));
      return v !== undefined && !v.slashed;
    });
    const previous = readCommitteeRecord(state, e + 1)!;
    const next = selectCommittee(this.crypto, {
      chainId: genesis.chainId,
      shard: ctx.shard,
      epoch: e + 2,
      size: ctx.params.committeeSize,
      leagueSize: ctx.params.leagueSize,
      seed,
      eligible:
        candidates.length > 0
          ? candidates
          : previous.members.map((m) => ({ blsPublicKey: m.blsPublicKey, weight: BigInt(m.weight) })),
      previous: previous.members.map((m) => m.blsPublicKey),
    });
    writeCommitteeRecord(state, next);
    writeCandidates(state, e + 3, eligibleCandidates(state, genesis));
    state.putRecord('epochCandidates', epochKey(e + 2), null);
  }

  private requireGenesis(): Genesis {
    if (!this.genesis) throw new Error('consensus hooks used before genesis was loaded');
    return this.genesis;
  }

  /** For a node that opens an existing database: the genesis it was built from. */
  setGenesis(genesis: Genesis): void {
    this.genesis = genesis;
  }
}

function sameMembers(a: Committee, b: Committee): boolean {
  return (
    a.epoch === b.epoch &&
    a.members.length === b.members.length &&
    a.members.every(
      (m, i) => m.weight === b.members[i]!.weight && equalBytes(m.blsPublicKey, b.members[i]!.blsPublicKey),
    )
  );
}

function validatorsByBlsKey(state: StateReader): Map<string, ValidatorRecord> {
  return new Map(state.listValidators().map((v) => [toHex(v.blsPublicKey), v]));
}

export function validatorOwnerOf(state: StateReader, blsPublicKey: Uint8Array): Uint8Array | undefined {
  return validatorsByBlsKey(state).get(toHex(blsPublicKey))?.owner;
}
