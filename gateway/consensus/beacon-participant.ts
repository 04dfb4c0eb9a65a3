/**
 * This node's part in the beacon (docs/consensus.md §3): after each final block it deals for the next
 * committee while the dealing window is open, checks the dealings it received and complains while the
 * complaint window is open, and, as a member of the current committee, publishes its partial signatures of
 * the epoch's beacon message and combines everyone's into a `beacon` transaction. All of it is idempotent
 * and recomputable from the state and the node key, so a restart loses nothing.
 */
import { randomBytes } from 'node:crypto';
import type { PreparedCommittee } from '../../core/committee.js';
import type { Crypto } from '../../core/crypto.js';
import { IosnetError } from '../../core/errors.js';
import type { ChainParams } from '../../core/genesis.js';
import type { TxPayload } from '../../core/tx.js';
import type { Logger } from '../log/logger.js';
import type { StateReader } from '../state/interface.js';
import {
  type BeaconContext,
  beaconMessage,
  combineVerified,
  createDealing,
  decodeGroupCommitments,
  decodePartialSignatures,
  encodePartialSignatures,
  memberSecretShares,
  openShares,
  type PartialSignature,
  partialSign,
  type Share,
} from './beacon/index.js';
import {
  beaconContext,
  epochPosition,
  memberIndexOfNode,
  readComplaints,
  readDealing,
  readDkgResult,
} from './beacon-state.js';
import { readSeed } from './epoch-records.js';
import { epochOf } from './epochs.js';

export interface BeaconParticipantDeps {
  readonly crypto: Crypto;
  readonly params: ChainParams;
  readonly nodeSecretKey: Uint8Array;
  readonly nodePublicKey: Uint8Array;
  readonly committeeOf: (state: StateReader, epoch: number) => PreparedCommittee;
  /** Signs and submits a transaction from this node's account (mempool + gossip). */
  readonly submit: (payload: TxPayload) => void;
  readonly broadcastPartials: (epoch: number, bytes: Uint8Array) => void;
  readonly log: Logger;
}

export class BeaconParticipant {
  private readonly dealt = new Set<number>();
  private readonly checked = new Set<number>();
  private readonly partials = new Map<number, Map<number, PartialSignature>>();
  private readonly own = new Map<number, Uint8Array>();
  private readonly combined = new Set<number>();

  constructor(private readonly deps: BeaconParticipantDeps) {}

  private context(state: StateReader, epoch: number): BeaconContext | undefined {
    try {
      return beaconContext(state, this.deps.committeeOf(state, epoch));
    } catch {
      return undefined;
    }
  }

  /** After block `height` is final (state is the state after it). */
  onFinalized(state: StateReader, height: number): void {
    const { params } = this.deps;
    const epoch = epochOf(height + 1, params);
    const pos = epochPosition(height + 1, params.epochLength);
    const L = params.epochLength;
    try {
      // Deal for the next committee, early in the window (a late dealing would miss it).
      if (epoch + 1 >= 2 && pos < L / 2 - 2 && !this.dealt.has(epoch + 1)) {
        const ctx = this.context(state, epoch + 1);
        const me = ctx ? memberIndexOfNode(ctx, this.deps.nodePublicKey) : -1;
        if (ctx && me >= 0 && !readDealing(state, epoch + 1, me)) {
          const dealing = createDealing(
            ctx,
            me,
            this.deps.nodeSecretKey,
            (n) => new Uint8Array(randomBytes(n)),
          );
          this.deps.submit({ kind: 'dkgDeal', epoch: epoch + 1, dealing });
          this.deps.log.info('dkg dealing submitted', { epoch: epoch + 1, dealer: me });
        }
        this.dealt.add(epoch + 1);
      }
      // Check every dealing once the dealing window is over; complain about bad shares.
      if (epoch + 1 >= 2 && pos >= L / 2 && pos < (3 * L) / 4 - 2 && !this.checked.has(epoch + 1)) {
        this.checked.add(epoch + 1);
        const ctx = this.context(state, epoch + 1);
        const me = ctx ? memberIndexOfNode(ctx, this.deps.nodePublicKey) : -1;
        if (ctx && me >= 0) {
          const already = new Set(
            readComplaints(state, epoch + 1)
              .filter((c) => c.complainer === me)
              .map((c) => c.dealer),
          );
          for (let d = 0; d < ctx.members.length; d++) {
            const dealing = readDealing(state, epoch + 1, d);
            if (!dealing || d === me || already.has(d)) continue;
            const opened = this.safeOpen(ctx, dealing, me);
            if (opened && !opened.ok) {
              this.deps.submit({ kind: 'dkgComplaint', epoch: epoch + 1, complaint: opened.complaint });
              this.deps.log.warn('dkg complaint submitted', { epoch: epoch + 1, dealer: d });
            }
          }
        }
      }
      // As a member of this epoch's committee: publish partials until the seed lands.
      if (!readSeed(state, epoch)) this.publishPartials(state, epoch);
    } catch (e) {
      if (!(e instanceof IosnetError)) throw e;
      this.deps.log.warn('beacon step failed', { epoch, code: e.code, message: e.message });
    }
  }

  private safeOpen(ctx: BeaconContext, dealing: Uint8Array, me: number) {
    try {
      return openShares(ctx, dealing, me, this.deps.nodeSecretKey);
    } catch (e) {
      if (e instanceof IosnetError) return undefined;
      throw e;
    }
  }

  private publishPartials(state: StateReader, epoch: number): void {
    const result = readDkgResult(state, epoch);
    if (!result) return;
    let bytes = this.own.get(epoch);
    const ctx = this.context(state, epoch);
    if (!ctx) return;
    const me = memberIndexOfNode(ctx, this.deps.nodePublicKey);
    if (me < 0) return;
    if (!bytes) {
      const opened = new Map<number, readonly Share[]>();
      for (const d of result.qualified) {
        const dealing = readDealing(state, epoch, d);
        const o = dealing ? this.safeOpen(ctx, dealing, me) : undefined;
        if (!o?.ok) return; // our complaint made it disqualified, or we cannot sign: nothing to publish
        opened.set(d, o.shares);
      }
      const shares = memberSecretShares(ctx, result.qualified, me, opened);
      const message = beaconMessage(this.deps.crypto, ctx.chainId, ctx.shard, epoch);
      bytes = encodePartialSignatures(ctx, me, partialSign(this.deps.crypto, shares, message));
      this.own.set(epoch, bytes);
      this.onPartials(state, epoch, bytes);
    }
    this.deps.broadcastPartials(epoch, bytes);
  }

  /** Partial signatures from a peer (or ourselves): combine once t distinct shares verify. */
  onPartials(state: StateReader, epoch: number, bytes: Uint8Array): void {
    if (
      epoch !== epochOf(state.height + 1, this.deps.params) ||
      this.combined.has(epoch) ||
      readSeed(state, epoch)
    )
      return;
    const result = readDkgResult(state, epoch);
    const ctx = result ? this.context(state, epoch) : undefined;
    if (!result || !ctx) return;
    const { partials } = decodePartialSignatures(ctx, bytes);
    let byIndex = this.partials.get(epoch);
    if (!byIndex) {
      byIndex = new Map();
      this.partials.set(epoch, byIndex);
    }
    for (const p of partials) byIndex.set(p.index, p);
    if (byIndex.size < result.threshold) return;
    const commitments = decodeGroupCommitments(result.groupCommitments, result.threshold);
    const message = beaconMessage(this.deps.crypto, ctx.chainId, ctx.shard, epoch);
    try {
      const { signature, rejected } = combineVerified(this.deps.crypto, commitments, message, [
        ...byIndex.values(),
      ]);
      for (const i of rejected) byIndex.delete(i);
      this.combined.add(epoch);
      this.deps.submit({ kind: 'beacon', epoch, signature });
      this.deps.log.info('beacon combined', { epoch, partials: byIndex.size });
    } catch (e) {
      if (!(e instanceof IosnetError)) throw e;
      // Not enough valid partials yet: wait for more.
    }
    // Memory: forget epochs that are over.
    for (const e of this.partials.keys()) if (e < epoch) this.partials.delete(e);
  }
}
