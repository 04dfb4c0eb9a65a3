/**
 * The consensus engine of one gateway for one shard: Tendermint's algorithm (Buchman, Kwon, Milosevic 2018)
 * with believability weights and BLS certificates, as specified in docs/consensus.md §4. Single-threaded and
 * event-driven: peer messages and timers come in, votes and proposals go out. All decisions for a height are
 * in HeightRound; the engine owns the transitions between heights (decide, catch up).
 */
import { type ParsedBlock, parseBlock } from '../../core/block.js';
import { equalBytes, toHex } from '../../core/bytes.js';
import { verifyCollectiveSignature } from '../../core/committee.js';
import type { Crypto } from '../../core/crypto.js';
import { IosnetError, VerifyError } from '../../core/errors.js';
import type { Genesis } from '../../core/genesis.js';
import {
  decodeFinalityCertificate,
  encodeBlockHeader,
  encodeFinalityCertificate,
  type FinalityCertificate,
  VotePhase,
  voteMessage,
} from '../../core/header.js';
import { merkleProof } from '../../core/merkle.js';
import { decodeStateBlock, type StateBlock, stateBlockIdOf, ZERO_HASH } from '../../core/state-block.js';
import { EvidenceKind, encodeTx, signTx, type TxPayload } from '../../core/tx.js';
import { verifyStateBlock } from '../../core/verify.js';
import type { Logger } from '../log/logger.js';
import type { Mempool } from '../mempool/interface.js';
import type { Network, PeerId, PeerMessage } from '../network/interface.js';
import type { BlockContext, BlockExecution, ChainState } from '../state/interface.js';
import {
  BlockInvalidError,
  buildBlock,
  checkHeader,
  executeBlock,
  heldByMempool,
  type ParentInfo,
} from './blocks.js';
import { corruptFirstSignature, rebuildWithTime } from './byzantine.js';
import { proposerSeed, readCommitteeRecord } from './epoch-records.js';
import { epochOf, isLastOfEpoch, stateBlockIndexAt, stateBlockRange } from './epochs.js';
import { encodeFraudProof } from './evidence.js';
import { type ConsensusHooks, validatorOwnerOf } from './hooks.js';
import type { Clock, ConsensusEvents, FinalizedChain, SigningGuard } from './interface.js';
import {
  decodeProposal,
  decodeVote,
  encodeProposal,
  encodeVote,
  nilBlockId,
  type Proposal,
  proposalMessage,
  type Vote,
  type VotePhaseValue,
} from './messages.js';
import type { ConsensusOptions } from './options.js';
import { signatureSample } from './sampling.js';
import { proposerIndex } from './selection.js';
import { type Certificate, HeightVotes } from './votes.js';

export interface ConsensusKeys {
  readonly nodeSecretKey: Uint8Array;
  readonly nodePublicKey: Uint8Array;
  readonly blsSecretKey: Uint8Array;
  readonly blsPublicKey: Uint8Array;
}

export interface ConsensusDeps {
  readonly crypto: Crypto;
  readonly genesis: Genesis;
  readonly genesisHash: Uint8Array;
  readonly state: ChainState;
  readonly chain: FinalizedChain;
  readonly mempool: Mempool;
  readonly network: Network;
  readonly hooks: ConsensusHooks;
  readonly guard: SigningGuard;
  readonly keys: ConsensusKeys;
  readonly clock: Clock;
  readonly events?: ConsensusEvents;
  /** This node's part in the epoch beacon (absent: the chain runs on fallback seeds). */
  readonly beacon?: {
    onFinalized(state: ChainState, height: number): void;
    onPartials(state: ChainState, epoch: number, bytes: Uint8Array): void;
  };
  /** Test-only misbehaviour (docs/operator.md never mentions it): never set on a real node. */
  readonly byzantine?: ByzantineMode;
  /** Decisions at debug level (proposals judged, timeouts, locks), view changes at info. */
  readonly log?: Logger;
}

/** Bytes of blocks in one sync response: half the network's 16 MiB frame bound. */
const SYNC_RESPONSE_BYTES = 8 * 1024 * 1024;
/** The signing guard drops the records of final heights once every this many heights (one commit each time). */
const GUARD_PRUNE_EVERY = 16;

export type ByzantineMode = 'equivocate' | 'invalid-block' | 'withhold-votes';

type Step = 'propose' | 'prepare' | 'commit';

interface Candidate {
  readonly parsed: ParsedBlock;
  readonly proposal: Proposal | null;
  /** undefined: not checked yet. */
  validity?: { ok: true; execution: BlockExecution } | { ok: false; reason: string };
}

/** Everything the engine tracks for the height it is deciding. */
class HeightRound {
  view = 0;
  step: Step = 'propose';
  locked: { blockId: Uint8Array; view: number } | null = null;
  valid: { blockId: Uint8Array; view: number; certificate: FinalityCertificate } | null = null;
  readonly proposals = new Map<number, Proposal>();
  readonly blocks = new Map<string, Candidate>();
  readonly timers = new Set<unknown>();
  readonly scheduled = new Set<string>();
  decided = false;
  readonly nil: Uint8Array;
  constructor(
    readonly height: number,
    readonly epoch: number,
    readonly committee: ReturnType<ConsensusHooks['committee']>,
    readonly myIndex: number,
    readonly seed: Uint8Array,
    readonly votes: HeightVotes,
    nil: Uint8Array,
  ) {
    this.nil = nil;
  }
}

export class ConsensusEngine {
  private round!: HeightRound;
  private running = false;
  private lastDecisionAt = 0;
  private syncing = false;
  private stateBlocksRequestedAt = Number.NEGATIVE_INFINITY;
  private statusTimer: unknown;
  private readonly reported = new Set<string>();

  constructor(
    private readonly opts: ConsensusOptions,
    private readonly deps: ConsensusDeps,
  ) {}

  get height(): number {
    return this.round?.height ?? this.deps.chain.height + 1;
  }

  get view(): number {
    return this.round?.view ?? 0;
  }

  start(): void {
    this.running = true;
    this.enterHeight(this.deps.chain.height + 1);
    const tick = () => {
      if (!this.running) return;
      this.deps.network.broadcast({
        type: 'status',
        height: this.deps.chain.height,
        view: this.round.view,
        stateBlocks: (this.deps.chain.latestStateBlock()?.stateBlock.index ?? -1) + 1,
      });
      this.statusTimer = this.deps.clock.setTimeout(tick, this.opts.statusIntervalMs);
    };
    tick();
  }

  stop(): void {
    this.running = false;
    if (this.round) for (const t of this.round.timers) this.deps.clock.clearTimeout(t);
    if (this.statusTimer) this.deps.clock.clearTimeout(this.statusTimer);
  }

  // ---------------------------------------------------------------- heights and views

  private enterHeight(height: number): void {
    if (this.round) for (const t of this.round.timers) this.deps.clock.clearTimeout(t);
    const { crypto, state, genesis } = this.deps;
    const epoch = epochOf(height, genesis.params);
    const committee = this.deps.hooks.committee(state, epoch);
    const myIndex = committee.committee.members.findIndex((m) =>
      equalBytes(m.blsPublicKey, this.deps.keys.blsPublicKey),
    );
    const seed = proposerSeed(state, epoch);
    const votes = new HeightVotes(crypto, committee, 0, height);
    this.round = new HeightRound(
      height,
      epoch,
      committee,
      myIndex,
      seed,
      votes,
      nilBlockId(crypto, genesis.chainId, 0, height),
    );
    const lock = this.deps.guard.loadLock(height);
    if (lock) this.round.locked = lock;
    this.restoreValid(height);
    this.enterView(0);
  }

  /** After a restart: the valid block and its prepare certificate, saved when they were formed. */
  private restoreValid(height: number): void {
    const saved = this.deps.guard.loadValid(height);
    if (!saved) return;
    const r = this.round;
    try {
      const parsed = parseBlock(this.deps.crypto, saved.blockBytes);
      const certificate = decodeFinalityCertificate(saved.certificate);
      if (parsed.block.header.height !== height || !equalBytes(certificate.blockId, parsed.blockId)) return;
      r.blocks.set(toHex(parsed.blockId), { parsed, proposal: null });
      r.valid = { blockId: parsed.blockId, view: saved.view, certificate };
    } catch (e) {
      if (!(e instanceof IosnetError)) throw e;
    }
  }

  /** Records a newer valid block (rule 3, any view): the proposer re-proposes it with its certificate. */
  private setValid(id: Uint8Array, view: number, certificate: FinalityCertificate): void {
    const r = this.round;
    if (r.valid && r.valid.view >= view) return;
    r.valid = { blockId: id, view, certificate };
    const c = r.blocks.get(toHex(id));
    if (c) {
      this.deps.guard.saveValid(r.height, {
        view,
        blockBytes: c.parsed.bytes,
        certificate: encodeFinalityCertificate(certificate),
      });
    }
  }

  private proposerOf(view: number): number {
    const r = this.round;
    return proposerIndex(this.deps.crypto, r.committee.committee, r.committee.league, r.seed, r.height, view);
  }

  private enterView(view: number): void {
    const r = this.round;
    if (view < r.view || (view === r.view && r.step !== 'propose' && view !== 0)) return;
    if (view > r.view) {
      this.deps.events?.viewChange?.({ height: r.height, view });
      this.deps.log?.info('view change', {
        height: r.height,
        view,
        locked: r.locked?.view ?? null,
        valid: r.valid?.view ?? null,
      });
      // Vote gossip for liveness: the prepare votes behind our valid block go out again, so peers that missed
      // some learn it is valid (rule 3, past views) and their next proposer re-proposes it, which releases
      // every lock on it. Without this a lost vote can leave a needed validator locked for good.
      if (r.valid) {
        for (const bytes of r.votes.voteBytes(VotePhase.prepare, r.valid.view, r.valid.blockId))
          this.deps.network.broadcast({ type: 'vote', bytes });
      }
    }
    r.view = view;
    r.step = 'propose';
    this.schedule(
      `propose/${view}`,
      this.opts.timeoutProposeMs + view * this.opts.timeoutStepMs + this.opts.blockIntervalMs,
      () => this.onTimeoutPropose(view),
    );
    // Backstop: a view that decides nothing for this long moves on. View changes never endanger safety;
    // this only guards liveness against rounds where too few votes arrive for the rule-based timeouts.
    const o = this.opts;
    const stall =
      4 * (o.timeoutProposeMs + o.timeoutPrepareMs + o.timeoutCommitMs + view * o.timeoutStepMs) +
      o.blockIntervalMs;
    this.schedule(`stall/${view}`, stall, () => this.enterView(view + 1));
    if (r.myIndex >= 0 && this.proposerOf(view) === r.myIndex) this.scheduleProposal(view);
    const early = r.proposals.get(view);
    if (early) this.considerProposal(early);
    this.checkVotes();
  }

  private schedule(key: string, ms: number, fn: () => void): void {
    const r = this.round;
    if (r.scheduled.has(key)) return;
    r.scheduled.add(key);
    const height = r.height;
    const t = this.deps.clock.setTimeout(() => {
      r.timers.delete(t);
      if (this.running && this.round.height === height && !this.round.decided) fn();
    }, ms);
    r.timers.add(t);
  }

  // ---------------------------------------------------------------- proposing

  /** Proposes when there is something to include, or after blockIntervalMs with an empty block. */
  private scheduleProposal(view: number): void {
    const r = this.round;
    const since = this.deps.clock.now() - this.lastDecisionAt;
    const wait =
      r.valid || this.deps.mempool.size > 0
        ? Math.max(0, this.opts.minBlockIntervalMs - since)
        : Math.max(0, this.opts.blockIntervalMs - since);
    const attempt = () => {
      if (this.round !== r || r.view !== view || r.step !== 'propose' || r.decided) return;
      if (
        !r.valid &&
        this.deps.mempool.size === 0 &&
        this.deps.clock.now() - this.lastDecisionAt < this.opts.blockIntervalMs
      ) {
        r.scheduled.delete(`build/${view}`);
        this.schedule(`build/${view}`, this.opts.pollMs, attempt);
        return;
      }
      this.propose(view);
    };
    this.schedule(`build/${view}`, wait, attempt);
  }

  private propose(view: number): void {
    const r = this.round;
    const { crypto, keys } = this.deps;
    let parsed: ParsedBlock;
    let polView = -1;
    let polCertificate: FinalityCertificate | null = null;
    if (r.valid && r.valid.view >= view) {
      // Restarted mid-height behind the others' views: the valid block cannot be re-proposed with a POL of
      // this view or later, and a fresh block would not release its own lock. Let this view time out.
      this.deps.log?.debug('not proposing', { height: r.height, view, valid: r.valid.view });
      return;
    }
    if (r.valid) {
      const c = r.blocks.get(toHex(r.valid.blockId))!;
      parsed = c.parsed;
      polView = r.valid.view;
      polCertificate = r.valid.certificate;
    } else {
      const parent = this.parentInfo();
      const now = this.deps.clock.now();
      const ctx = this.context(view, Math.max(now, parent.time + 1), r.myIndex);
      const built = buildBlock(
        crypto,
        this.deps,
        ctx,
        parent,
        r.myIndex,
        (id) => crypto.bls.sign(id, keys.blsSecretKey),
        {
          maxTxs: this.deps.genesis.params.maxBlockTxs,
          maxBytes: this.opts.maxBlockBytes,
          maxConfirms: this.opts.maxConfirmsPerBlock,
        },
        now,
      );
      parsed = built.parsed;
      if (this.deps.byzantine === 'invalid-block' && parsed.block.txs.length > 0)
        parsed = this.corrupt(parsed);
      r.blocks.set(toHex(parsed.blockId), {
        parsed,
        proposal: null,
        validity: { ok: true, execution: built.execution },
      });
      this.deps.events?.proposal?.({
        height: r.height,
        view,
        blockId: parsed.blockId,
        txIds: parsed.txIds,
        valid: true,
        header: parsed.block.header,
      });
    }
    const signature = crypto.bls.sign(
      proposalMessage(crypto, parsed.blockId, view, polView),
      keys.blsSecretKey,
    );
    const bytes = encodeProposal({ blockBytes: parsed.bytes, view, polView, polCertificate, signature });
    this.deps.network.broadcast({ type: 'proposal', bytes });
    // Our own proposal as decodeProposal would give it, without decoding the block we just built.
    this.acceptProposal('self', {
      block: parsed.block,
      blockBytes: parsed.bytes,
      blockId: parsed.blockId,
      txIds: parsed.txIds,
      view,
      polView,
      polCertificate,
      signature,
    });
    if (this.deps.byzantine === 'equivocate' && polView < 0) this.equivocate(view, parsed);
  }

  // ---------------------------------------------------------------- messages

  /** Peer messages for consensus (the node's router hands them over; docs/peer-protocol.md). */
  onMessage(from: PeerId, m: PeerMessage): void {
    if (!this.running) return;
    try {
      switch (m.type) {
        case 'proposal':
          this.onProposal(from, m.bytes);
          return;
        case 'vote':
          this.onVote(from, m.bytes);
          return;
        case 'decided':
          this.onDecided(from, m.height, m.certificate);
          return;
        case 'txs':
          this.onTxs(from, m.txs);
          return;
        case 'status':
          if (m.height > this.deps.chain.height) this.requestBlocks(from);
          return;
        case 'getBlocks':
          this.serveBlocks(from, m.fromHeight, m.count);
          return;
        case 'blocks':
          this.onBlocks(from, m.items);
          return;
        case 'beaconPartial':
          this.deps.beacon?.onPartials(this.deps.state, m.epoch, m.bytes);
          return;
        case 'stateBlocks':
          this.onStateBlocks(m.items);
          return;
        default:
          return;
      }
    } catch (e) {
      if (e instanceof IosnetError) {
        // Malformed or invalid consensus data from this peer: drop it, keep going.
        this.deps.network.penalize(from, `${m.type}: ${e.code}`);
        return;
      }
      throw e;
    }
  }

  private onTxs(from: string, txs: readonly Uint8Array[]): void {
    const now = this.deps.clock.now();
    const source = { relayedBy: from };
    for (const bytes of txs) {
      try {
        this.deps.mempool.add(bytes, this.deps.state, now, source);
      } catch (e) {
        if (!(e instanceof IosnetError)) throw e;
        // Peers relay only what they admitted from clients, signatures checked: a forgery is the peer's doing.
        if (e instanceof VerifyError) {
          this.deps.network.penalize(from, `relayed a forged transaction: ${e.code}`);
          return;
        }
      }
    }
  }

  private onProposal(from: string, bytes: Uint8Array): void {
    const { mempool } = this.deps;
    // The block's transactions this node holds with the same bytes are taken from its pool, not decoded again.
    const p = decodeProposal(this.deps.crypto, bytes, this.opts.maxBlockBytes + 4096, (id, txBytes) => {
      const pending = mempool.get(id);
      return pending !== undefined && equalBytes(pending.bytes, txBytes) ? pending.tx : undefined;
    });
    this.acceptProposal(from, p);
  }

  private acceptProposal(from: string, p: Proposal): void {
    const r = this.round;
    if (p.block.header.height !== r.height) return;
    if (p.view > r.view + this.opts.maxViewAhead) return;
    const proposer = this.proposerOf(p.view);
    const key = r.committee.keys[proposer]!;
    if (
      from !== 'self' &&
      !this.deps.crypto.bls.verify(
        p.signature,
        proposalMessage(this.deps.crypto, p.blockId, p.view, p.polView),
        key,
      )
    ) {
      if (from !== 'self') this.deps.network.penalize(from, 'proposal signature');
      return;
    }
    const prior = r.proposals.get(p.view);
    if (prior) {
      if (!equalBytes(prior.blockId, p.blockId) && p.polView < 0 && prior.polView < 0) {
        this.reportEquivocation(
          EvidenceKind.proposalEquivocation,
          encodeBlockHeader(prior.block.header),
          encodeBlockHeader(p.block.header),
          proposer,
        );
      }
      return;
    }
    if (p.polCertificate) {
      const c = p.polCertificate;
      const ok =
        equalBytes(c.blockId, p.blockId) &&
        c.view === p.polView &&
        c.height === r.height &&
        this.safely(() =>
          verifyCollectiveSignature(
            this.deps.crypto,
            r.committee,
            voteMessage(this.deps.crypto, VotePhase.prepare, c.view, c.blockId),
            c.signature,
          ),
        );
      if (!ok) {
        if (from !== 'self') this.deps.network.penalize(from, 'proposal certificate');
        return;
      }
    }
    r.proposals.set(p.view, p);
    const k = toHex(p.blockId);
    if (!r.blocks.has(k))
      r.blocks.set(k, {
        parsed: { block: p.block, blockId: p.blockId, txIds: [...p.txIds], bytes: p.blockBytes },
        proposal: p,
      });
    if (p.view === r.view) this.considerProposal(p);
    this.checkVotes();
  }

  private safely(fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (e) {
      if (e instanceof IosnetError) return false;
      throw e;
    }
  }

  /** §4.3: checks (once) and executes a candidate block; the result is cached per block id. */
  private validate(c: Candidate): boolean {
    if (c.validity) return c.validity.ok;
    const r = this.round;
    const parsed = c.parsed;
    const header = parsed.block.header;
    try {
      const parent = this.parentInfo();
      const expected = this.proposerOf(header.view);
      checkHeader(
        this.deps.crypto,
        parsed,
        { chainId: this.deps.genesis.chainId, shard: 0, epoch: r.epoch, proposer: expected },
        parent,
        this.deps.clock.now(),
        this.opts.maxClockSkewMs,
      );
      if (
        !this.deps.crypto.bls.verify(
          header.proposerSignature,
          parsed.blockId,
          r.committee.keys[header.proposer]!,
        )
      ) {
        throw new BlockInvalidError('header signature');
      }
      const ctx = this.context(header.view, header.time, header.proposer, parsed);
      // Transactions this node holds had their check decided on admission (checked, or relayed and outside its
      // sample); of the others it checks all (its own block, or sampleFraction 1) or its block sample (§5).
      const checked = heldByMempool(this.deps.mempool, parsed);
      const sampled =
        header.proposer === r.myIndex
          ? () => true
          : signatureSample(
              this.deps.crypto,
              this.deps.keys.blsSecretKey,
              parsed.blockId,
              this.opts.sampleFraction,
            );
      const execution = executeBlock(this.deps.state, ctx, parsed, (i) => checked(i) || !sampled(i));
      c.validity = { ok: true, execution };
    } catch (e) {
      if (!(e instanceof IosnetError)) throw e;
      c.validity = { ok: false, reason: e.message };
      this.deps.log?.warn('invalid block', { height: r.height, view: header.view, reason: e.message });
      this.reportInvalidBlock(parsed, e);
    }
    this.deps.events?.proposal?.({
      height: r.height,
      view: r.view,
      blockId: parsed.blockId,
      txIds: parsed.txIds,
      valid: c.validity.ok,
      header: parsed.block.header,
    });
    return c.validity.ok;
  }

  /** Rule 2 of §4.2: the prepare vote on the proposal of the current view. */
  private considerProposal(p: Proposal): void {
    const r = this.round;
    if (p.view !== r.view || r.step !== 'propose') return;
    const c = r.blocks.get(toHex(p.blockId))!;
    const ok = this.validate(c);
    const lockedOn = r.locked && equalBytes(r.locked.blockId, p.blockId);
    const acceptable =
      p.polView < 0 ? !r.locked || lockedOn : !r.locked || r.locked.view <= p.polView || lockedOn;
    this.deps.log?.debug('prepare vote', {
      height: r.height,
      view: p.view,
      polView: p.polView,
      valid: ok,
      acceptable: Boolean(acceptable),
      locked: r.locked?.view ?? null,
    });
    this.castVote(VotePhase.prepare, r.view, ok && acceptable ? p.blockId : r.nil);
    r.step = 'prepare';
  }

  private onTimeoutPropose(view: number): void {
    const r = this.round;
    if (r.view === view && r.step === 'propose') {
      this.deps.log?.debug('propose timeout', { height: r.height, view, proposer: this.proposerOf(view) });
      this.castVote(VotePhase.prepare, view, r.nil);
      r.step = 'prepare';
      this.checkVotes();
    }
  }

  private castVote(
    phase: VotePhaseValue,
    view: number,
    blockId: Uint8Array,
    stateBlockId?: Uint8Array,
    /** Records (lock, valid block) made durable in the same commit as the vote. */
    alsoRecord?: () => void,
  ): void {
    const r = this.round;
    if (r.myIndex < 0 || this.deps.byzantine === 'withhold-votes') {
      alsoRecord?.();
      return;
    }
    // After a restart this may be the block signed before the crash rather than the one wanted now: the node
    // re-sends that vote (a state block signature goes only with the block it was made for).
    const signed = this.deps.guard.voteFor(r.height, view, phase, blockId, alsoRecord);
    if (!equalBytes(signed, blockId)) stateBlockId = undefined;
    blockId = signed;
    const { crypto, keys } = this.deps;
    const vote: Vote = {
      phase,
      shard: 0,
      height: r.height,
      view,
      blockId,
      voter: r.myIndex,
      signature: crypto.bls.sign(voteMessage(crypto, phase, view, blockId), keys.blsSecretKey),
      stateBlockSignature: stateBlockId ? crypto.bls.sign(stateBlockId, keys.blsSecretKey) : null,
    };
    const bytes = encodeVote(vote);
    r.votes.add(vote, bytes, 'self', true);
    this.deps.network.broadcast({ type: 'vote', bytes });
  }

  private onVote(from: string, bytes: Uint8Array): void {
    const vote = decodeVote(bytes);
    const r = this.round;
    if (vote.height !== r.height) return;
    if (vote.view > r.view + this.opts.maxViewAhead) return;
    const result = r.votes.add(vote, bytes, from);
    if (result.equivocation) {
      this.reportEquivocation(
        EvidenceKind.voteEquivocation,
        result.equivocation[0],
        result.equivocation[1],
        vote.voter,
      );
    }
    if (result.accepted) this.checkVotes();
  }

  /** Rules 3-5 of §4.2, re-evaluated after every vote or proposal. */
  private checkVotes(): void {
    const r = this.round;
    if (r.decided) return;
    // Rule 4: a commit certificate for a block in any view decides it.
    for (const view of this.viewsWithVotes()) {
      for (const id of r.votes.quorumBlocks(VotePhase.commit, view)) {
        if (equalBytes(id, r.nil)) continue;
        const cert = r.votes.certificate(VotePhase.commit, view, id, r.epoch, this.stateBlockIdFor(id));
        if (cert) {
          this.decide(id, cert);
          return;
        }
      }
    }
    const v = r.view;
    // A prepare certificate of a past view newer than the valid block (its votes arrived late) becomes the valid
    // block too: without it, a node locked on that block could wait forever for a proposal that releases it.
    for (const pv of r.votes.views(VotePhase.prepare)) {
      if (pv >= v || (r.valid && r.valid.view >= pv)) continue;
      for (const id of r.votes.quorumBlocks(VotePhase.prepare, pv)) {
        if (equalBytes(id, r.nil)) continue;
        const c = r.blocks.get(toHex(id));
        if (!c || !this.validate(c)) continue;
        const cert = r.votes.certificate(VotePhase.prepare, pv, id, r.epoch);
        if (cert) this.setValid(id, pv, cert.certificate);
      }
    }
    // Rule 3: a prepare certificate in the current view.
    for (const id of r.votes.quorumBlocks(VotePhase.prepare, v)) {
      if (equalBytes(id, r.nil)) {
        if (r.step === 'prepare') this.commitVote(v, r.nil);
        continue;
      }
      // Already the valid block of this view and past the prepare step: nothing left to do with its certificate
      // (every late vote would otherwise rebuild and re-verify it).
      if (r.step !== 'prepare' && r.valid && r.valid.view >= v) continue;
      const c = r.blocks.get(toHex(id));
      if (!c || !this.validate(c)) continue;
      const cert = r.votes.certificate(VotePhase.prepare, v, id, r.epoch);
      if (!cert) continue;
      if (r.step === 'prepare') {
        const locked = { blockId: id, view: v };
        r.locked = locked;
        // The valid block, the lock and the commit vote: one durable commit.
        this.commitVote(v, id, () => {
          this.setValid(id, v, cert.certificate);
          this.deps.guard.saveLock(r.height, locked);
        });
      } else {
        this.setValid(id, v, cert.certificate);
      }
    }
    if (r.step === 'prepare' && r.votes.verifiedWeightIfQuorum(VotePhase.prepare, v)) {
      this.schedule(`prepare/${v}`, this.opts.timeoutPrepareMs + v * this.opts.timeoutStepMs, () => {
        if (this.round.view === v && this.round.step === 'prepare') this.commitVote(v, this.round.nil);
      });
    }
    // Rule 5: nil committed, or commit votes of more than 2/3 without a decision: next view.
    if (r.votes.quorumBlocks(VotePhase.commit, v).some((id) => equalBytes(id, r.nil))) {
      this.enterView(v + 1);
      return;
    }
    if (r.votes.verifiedWeightIfQuorum(VotePhase.commit, v)) {
      this.schedule(`commit/${v}`, this.opts.timeoutCommitMs + v * this.opts.timeoutStepMs, () =>
        this.enterView(v + 1),
      );
    }
    const ahead = r.votes.highestViewAbove(v);
    if (ahead !== undefined) this.enterView(ahead);
  }

  private viewsWithVotes(): number[] {
    return this.round.votes.views(VotePhase.commit);
  }

  private commitVote(view: number, blockId: Uint8Array, alsoRecord?: () => void): void {
    const r = this.round;
    r.step = 'commit';
    const sbId = equalBytes(blockId, r.nil) ? undefined : this.stateBlockIdFor(blockId);
    this.castVote(VotePhase.commit, view, blockId, sbId, alsoRecord);
    this.checkVotes();
  }

  // ---------------------------------------------------------------- deciding

  private decide(blockId: Uint8Array, cert: Certificate): void {
    const r = this.round;
    const c = r.blocks.get(toHex(blockId));
    if (!c) {
      // A certificate without the block: peers that decided serve it with its certificate (onBlocks).
      this.deps.network.broadcast({ type: 'getBlocks', fromHeight: r.height, count: 1 });
      return;
    }
    if (!this.validate(c) || !c.validity?.ok) {
      const reason = c.validity && !c.validity.ok ? c.validity.reason : '';
      throw new Error(`consensus divergence: height ${r.height} is final but invalid here (${reason})`);
    }
    r.decided = true;
    let stateBlock: StateBlock | null = null;
    if (cert.stateBlock && this.canSignStateBlock(r.height)) {
      stateBlock = { ...this.stateBlockFields(c.parsed), signature: cert.stateBlock };
    }
    this.commit(c.parsed, c.validity.execution, cert.certificate, stateBlock);
    this.deps.network.broadcast({
      type: 'decided',
      height: r.height,
      certificate: encodeFinalityCertificate(cert.certificate),
    });
    this.enterHeight(r.height + 1);
  }

  private commit(
    parsed: ParsedBlock,
    execution: BlockExecution,
    certificate: FinalityCertificate,
    stateBlock: StateBlock | null,
  ): void {
    this.deps.chain.append(parsed, certificate, execution, stateBlock);
    if (!stateBlock && stateBlockIndexAt(parsed.block.header.height, this.deps.genesis.params) >= 0) {
      this.requestStateBlocks();
    }
    // Votes of final heights can no longer conflict; dropping them every PRUNE_EVERY heights saves a commit
    // (and its fsync) per height.
    if (parsed.block.header.height % GUARD_PRUNE_EVERY === 0)
      this.deps.guard.pruneBelow(parsed.block.header.height);
    this.deps.mempool.onBlockCommitted(parsed.txIds, this.deps.state, this.deps.clock.now());
    this.lastDecisionAt = this.deps.clock.now();
    this.deps.events?.finalized?.({ parsed, certificate, stateBlock });
    this.deps.beacon?.onFinalized(this.deps.state, parsed.block.header.height);
  }

  private onDecided(from: string, height: number, certBytes: Uint8Array): void {
    const r = this.round;
    if (height > r.height) {
      this.requestBlocks(from);
      return;
    }
    if (height !== r.height || r.decided) return;
    const cert = decodeFinalityCertificate(certBytes);
    verifyCollectiveSignature(
      this.deps.crypto,
      r.committee,
      voteMessage(this.deps.crypto, VotePhase.commit, cert.view, cert.blockId),
      cert.signature,
    );
    if (cert.height !== r.height) return;
    this.decide(cert.blockId, { certificate: cert, stateBlock: null });
  }

  /**
   * This node's state block for a block at a state-block height, if it can compute it: its own state-block
   * chain must reach the previous index (a node that caught up by blocks may lack some until it fetches
   * them), or it would sign a state block that links nowhere.
   */
  private stateBlockIdFor(blockId: Uint8Array): Uint8Array | undefined {
    const r = this.round;
    if (!this.canSignStateBlock(r.height)) return undefined;
    const c = r.blocks.get(toHex(blockId));
    return c ? stateBlockIdOf(this.deps.crypto, this.stateBlockFields(c.parsed)) : undefined;
  }

  private canSignStateBlock(height: number): boolean {
    const index = stateBlockIndexAt(height, this.deps.genesis.params);
    if (index < 0) return false;
    const stored = (this.deps.chain.latestStateBlock()?.stateBlock.index ?? -1) + 1;
    return stored === index;
  }

  /** The state block that block (at a K-th height) closes, as its committee signs it. */
  private stateBlockFields(parsed: ParsedBlock) {
    const { genesis, state } = this.deps;
    const h = parsed.block.header.height;
    const index = stateBlockIndexAt(h, genesis.params);
    const prev = this.deps.chain.latestStateBlock();
    const epoch = epochOf(h, genesis.params);
    const committee = this.round.committee.hash;
    const next = isLastOfEpoch(h, genesis.params) ? readCommitteeRecord(state, epoch + 1) : undefined;
    return {
      chainId: genesis.chainId,
      shard: 0,
      epoch,
      index,
      ...stateBlockRange(index, genesis.params),
      stateRoot: parsed.block.header.stateRoot,
      previous: prev && prev.stateBlock.index === index - 1 ? prev.id : ZERO_HASH,
      committee,
      nextCommittee: next ? this.deps.hooks.committee(state, epoch + 1).hash : committee,
    };
  }

  // ---------------------------------------------------------------- catching up

  /**
   * A state-block height was finalized without its state block here (decided from a peer's certificate, or
   * caught up by blocks): ask the peers for the state blocks this node lacks. At most one request per second.
   */
  private requestStateBlocks(): void {
    const now = this.deps.clock.now();
    if (now - this.stateBlocksRequestedAt < 1000) return;
    this.stateBlocksRequestedAt = now;
    const fromIndex = (this.deps.chain.latestStateBlock()?.stateBlock.index ?? -1) + 1;
    this.deps.network.broadcast({ type: 'getStateBlocks', fromIndex, count: 64 });
  }

  /**
   * State blocks a peer sent: each is checked against the committee of its epoch (from this node's state)
   * and linked to the previous one before it is stored; the first that fails ends the batch.
   */
  private onStateBlocks(
    items: readonly { stateBlock: Uint8Array; nextCommittee: Uint8Array | null }[],
  ): void {
    const { crypto, state } = this.deps;
    for (const item of items) {
      const sb = decodeStateBlock(item.stateBlock);
      const stored = (this.deps.chain.latestStateBlock()?.stateBlock.index ?? -1) + 1;
      if (sb.index < stored) continue;
      if (sb.index > stored || sb.toHeight > this.deps.chain.height) return;
      verifyStateBlock(crypto, sb, this.deps.hooks.committee(state, sb.epoch));
      this.deps.chain.addStateBlock(sb);
    }
  }

  private requestBlocks(from: string): void {
    if (this.syncing) return;
    this.syncing = true;
    this.deps.network.send(from, {
      type: 'getBlocks',
      fromHeight: this.deps.chain.height + 1,
      count: this.opts.syncBatch,
    });
    this.deps.clock.setTimeout(() => {
      this.syncing = false;
    }, this.opts.syncTimeoutMs);
  }

  private serveBlocks(to: string, fromHeight: number, count: number): void {
    const items: { block: Uint8Array; certificate: Uint8Array }[] = [];
    let bytes = 0;
    for (
      let h = fromHeight;
      h < fromHeight + Math.min(count, this.opts.syncBatch) && h <= this.deps.chain.height;
      h++
    ) {
      const item = this.deps.chain.get(h);
      if (!item) break;
      // One response must fit one frame (16 MiB): stop before passing half of it, but send at least one block.
      if (items.length > 0 && bytes + item.block.length > SYNC_RESPONSE_BYTES) break;
      bytes += item.block.length + item.certificate.length;
      items.push(item);
    }
    if (items.length > 0) this.deps.network.send(to, { type: 'blocks', items });
  }

  /** Final blocks from a peer: each checked against its certificate and executed in order. */
  private onBlocks(from: string, items: readonly { block: Uint8Array; certificate: Uint8Array }[]): void {
    this.syncing = false;
    const { crypto, state, genesis } = this.deps;
    for (const item of items) {
      const parsed = parseBlock(crypto, item.block);
      const cert = decodeFinalityCertificate(item.certificate);
      const h = parsed.block.header.height;
      if (h !== this.deps.chain.height + 1) continue;
      if (!equalBytes(cert.blockId, parsed.blockId) || cert.height !== h)
        throw new BlockInvalidError('certificate of another block');
      const committee = this.deps.hooks.committee(state, epochOf(h, genesis.params));
      verifyCollectiveSignature(
        crypto,
        committee,
        voteMessage(crypto, VotePhase.commit, cert.view, cert.blockId),
        cert.signature,
      );
      // Final: more than 2/3 of the weight executed it, so signatures need no second check here.
      const parent = this.parentInfo();
      checkHeader(
        crypto,
        parsed,
        {
          chainId: genesis.chainId,
          shard: 0,
          epoch: epochOf(h, genesis.params),
          proposer: parsed.block.header.proposer,
        },
        parent,
        Number.MAX_SAFE_INTEGER,
        0,
      );
      const ctx = this.context(
        parsed.block.header.view,
        parsed.block.header.time,
        parsed.block.header.proposer,
        parsed,
        committee,
      );
      const execution = executeBlock(state, ctx, parsed, () => true);
      this.commit(parsed, execution, cert, null);
    }
    if (this.deps.chain.height >= this.round.height) this.enterHeight(this.deps.chain.height + 1);
    if (items.length >= this.opts.syncBatch) this.requestBlocks(from);
  }

  // ---------------------------------------------------------------- helpers

  private parentInfo(): ParentInfo {
    const tip = this.deps.chain.tip();
    return { height: this.deps.chain.height, id: tip.id, time: tip.time, certificate: tip.certificate };
  }

  private context(
    view: number,
    time: number,
    proposer: number,
    parsed?: ParsedBlock,
    committee = this.round.committee,
  ): BlockContext {
    const { genesis, state } = this.deps;
    const height = this.deps.chain.height + 1;
    const member = committee.committee.members[proposer]!;
    const owner = validatorOwnerOf(state, member.blsPublicKey) ?? new Uint8Array(32);
    return {
      chainId: genesis.chainId,
      shard: 0,
      height,
      epoch: epochOf(height, genesis.params),
      view,
      time,
      proposerOwner: owner,
      lastCommit: parsed ? parsed.block.lastCommit : this.deps.chain.tip().certificate,
      params: genesis.params,
    };
  }

  /**
   * Submits a system transaction (evidence, DKG, beacon) from this node's key: nonce and fee 0 (core/tx.ts
   * SYSTEM_TX_KINDS), added to the own mempool and gossiped.
   */
  submitOwnTx(payload: TxPayload, ttlMs = payload.kind === 'evidence' ? 600_000 : 30_000): void {
    const { crypto, keys, state, mempool } = this.deps;
    const { tx } = signTx(
      crypto,
      {
        chainId: this.deps.genesis.chainId,
        sender: keys.nodePublicKey,
        nonce: 0,
        expiry: this.deps.clock.now() + ttlMs,
        fee: 0n,
        payload,
      },
      [keys.nodeSecretKey],
    );
    const bytes = encodeTx(tx);
    try {
      mempool.add(bytes, state, this.deps.clock.now());
      this.deps.network.broadcast({ type: 'txs', txs: [bytes] });
    } catch (e) {
      if (!(e instanceof IosnetError)) throw e;
    }
  }

  private reportEquivocation(kind: number, first: Uint8Array, second: Uint8Array, offender: number): void {
    const key = `${kind}/${this.round.height}/${offender}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.deps.events?.evidence?.({ kind, offender, height: this.round.height });
    this.submitOwnTx({ kind: 'evidence', evidenceKind: kind, first, second });
  }

  /** A block whose transaction signature fails is provable (kind 3); other invalidity is not, and costs reputation. */
  private reportInvalidBlock(parsed: ParsedBlock, e: IosnetError): void {
    const index = e.data.index;
    if (typeof index !== 'number' || e.data.cause !== 'VERIFY_BAD_SIGNATURE') return;
    const fraud = encodeFraudProof({
      tx: parsed.block.txs[index]!,
      proof: merkleProof(this.deps.crypto, parsed.txIds, index),
    });
    this.reportEquivocation(
      EvidenceKind.invalidBlock,
      encodeBlockHeader(parsed.block.header),
      fraud,
      parsed.block.header.proposer,
    );
  }

  // ---------------------------------------------------------------- byzantine test modes

  private corrupt(parsed: ParsedBlock): ParsedBlock {
    return corruptFirstSignature(this.deps.crypto, parsed, (id) =>
      this.deps.crypto.bls.sign(id, this.deps.keys.blsSecretKey),
    );
  }

  private equivocate(view: number, parsed: ParsedBlock): void {
    const alt = rebuildWithTime(this.deps.crypto, parsed, parsed.block.header.time + 1, (id) =>
      this.deps.crypto.bls.sign(id, this.deps.keys.blsSecretKey),
    );
    const signature = this.deps.crypto.bls.sign(
      proposalMessage(this.deps.crypto, alt.blockId, view, -1),
      this.deps.keys.blsSecretKey,
    );
    const bytes = encodeProposal({
      blockBytes: alt.bytes,
      view,
      polView: -1,
      polCertificate: null,
      signature,
    });
    // Half the peers get the other block.
    const peers = this.deps.network.peers();
    peers.forEach((p, i) => {
      if (i % 2 === 0) this.deps.network.send(p.peerId, { type: 'proposal', bytes });
    });
  }
}
