/**
 * Following a shard's state blocks from the trust anchor (docs/device.md §Sync). The device keeps exactly
 * one verified head: the latest state block it has verified, its id, the committee that signs the next
 * state block, and the committee before it (to check inclusion proofs from the previous epoch's last
 * blocks). Memory is bounded by two committees, whatever the chain's length.
 *
 * A step is accepted when, against the head:
 *   - it is the direct successor (index + 1): verifyStateBlockLink (previous id, heights, committee chain);
 *   - or it is a later state block of the SAME committee (the gateway's "sparse" answer skips the blocks in
 *     between): the committee is trusted for its whole epoch, so its signature alone binds the block;
 *   - and its collective signature verifies for the head's committee (> 2/3 of the weight);
 *   - and, when it changes committee (committee != nextCommittee), the new committee is the one it names,
 *     for the next epoch (verifyCommitteeTransition): a committee is only ever taken from a block signed by
 *     the one before it.
 * A block signed by any committee other than the head's means the gateway skipped (or invented) a
 * transition: DEVICE_TRANSITION_UNSIGNED. Any failure leaves the head unchanged.
 */
import { equalBytes } from '../core/bytes.js';
import { type Committee, type PreparedCommittee, prepareCommittee } from '../core/committee.js';
import type { Crypto } from '../core/crypto.js';
import { IosnetError } from '../core/errors.js';
import { type StateBlock, stateBlockIdOf, ZERO_HASH } from '../core/state-block.js';
import { verifyCommitteeTransition, verifyStateBlock, verifyStateBlockLink } from '../core/verify.js';
import { type Anchor, checkAnchor } from './anchor.js';
import { type DeviceErrorCode, deviceFail } from './errors.js';

export interface SyncStep {
  readonly stateBlock: StateBlock;
  /** Required when the state block changes committee: the committee it names next. */
  readonly nextCommittee: Committee | null;
}

export interface VerifiedHead {
  /** Null only before the first state block after a genesis anchor. */
  readonly stateBlock: StateBlock | null;
  readonly id: Uint8Array | null;
  /** The committee that signs the next state block. */
  readonly committee: PreparedCommittee;
  /** The committee before `committee`, if the device has seen one (for last-epoch inclusion proofs). */
  readonly previousCommittee: PreparedCommittee | null;
}

export type StepOutcome = 'applied' | 'known' | 'old';

export class StateBlockSync {
  private current: VerifiedHead;
  readonly chainId: string;
  readonly shard: number;
  readonly genesisHash: Uint8Array;

  constructor(
    private readonly crypto: Crypto,
    anchor: Anchor,
  ) {
    checkAnchor(crypto, anchor);
    this.genesisHash = anchor.genesisHash;
    this.chainId = anchor.committee.chainId;
    this.shard = anchor.committee.shard;
    const signer = prepareCommittee(crypto, anchor.committee);
    if (anchor.kind === 'genesis') {
      this.current = { stateBlock: null, id: null, committee: signer, previousCommittee: null };
    } else {
      const next = anchor.nextCommittee ? prepareCommittee(crypto, anchor.nextCommittee) : null;
      this.current = {
        stateBlock: anchor.stateBlock,
        id: stateBlockIdOf(crypto, anchor.stateBlock),
        committee: next ?? signer,
        previousCommittee: next ? signer : null,
      };
    }
  }

  get head(): VerifiedHead {
    return this.current;
  }

  /** Index the next state block the device needs (0 after a genesis anchor). */
  get nextIndex(): number {
    return this.current.stateBlock ? this.current.stateBlock.index + 1 : 0;
  }

  /**
   * Verifies one step against the head and makes it the head. 'known' for the head itself, 'old' for a
   * state block below the head (late announcements after a reconnect: not news, not an error).
   */
  apply(step: SyncStep): StepOutcome {
    const { stateBlock: sb, nextCommittee } = step;
    const head = this.current;
    const prev = head.stateBlock;
    if (sb.chainId !== this.chainId || sb.shard !== this.shard) {
      fail('DEVICE_STATE_BLOCK_NOT_SUCCESSOR', `state block is for ${sb.chainId}/${sb.shard}`);
    }
    if (prev && head.id) {
      if (sb.index < prev.index) return 'old';
      if (sb.index === prev.index) {
        if (equalBytes(stateBlockIdOf(this.crypto, sb), head.id)) return 'known';
        // Same index, other content: only a forgery (or a committee equivocating) gets here.
        this.checkSignature(sb, head.committee, false);
        fail(
          'DEVICE_STATE_BLOCK_FORGED',
          `a second state block ${sb.index} is signed: committee equivocation`,
        );
      }
      if (sb.index === prev.index + 1) {
        try {
          verifyStateBlockLink(prev, head.id, sb);
        } catch (err) {
          fail(
            'DEVICE_STATE_BLOCK_NOT_SUCCESSOR',
            `state block ${sb.index} does not follow ${prev.index}`,
            err,
          );
        }
      } else if (sb.fromHeight <= prev.toHeight || sb.epoch < prev.epoch) {
        fail(
          'DEVICE_STATE_BLOCK_NOT_SUCCESSOR',
          `state block ${sb.index} overlaps state block ${prev.index}`,
        );
      }
    } else if (sb.index === 0 && !equalBytes(sb.previous, ZERO_HASH)) {
      fail('DEVICE_STATE_BLOCK_NOT_SUCCESSOR', 'state block 0 must have a zero previous id');
    }
    // Skipping is only allowed within the head's committee; any other signer needs a transition we hold.
    if (!equalBytes(sb.committee, head.committee.hash)) {
      fail(
        'DEVICE_TRANSITION_UNSIGNED',
        `state block ${sb.index} (epoch ${sb.epoch}) is signed by a committee no verified transition named`,
        undefined,
        { epoch: sb.epoch, committeeEpoch: head.committee.committee.epoch },
      );
    }
    const changes = !equalBytes(sb.committee, sb.nextCommittee);
    let next: PreparedCommittee | null = null;
    if (changes) {
      if (!nextCommittee) {
        fail('DEVICE_TRANSITION_UNSIGNED', `state block ${sb.index} changes committee but none was sent`);
      }
      next = this.checkSignature(sb, head.committee, true, nextCommittee);
    } else {
      this.checkSignature(sb, head.committee, false);
    }
    this.current = {
      stateBlock: sb,
      id: stateBlockIdOf(this.crypto, sb),
      committee: next ?? head.committee,
      previousCommittee: next ? head.committee : head.previousCommittee,
    };
    return 'applied';
  }

  /** Applies steps in order; stops at the first failure (earlier steps stay applied: each was verified). */
  applyAll(steps: readonly SyncStep[]): number {
    let applied = 0;
    for (const step of steps) if (this.apply(step) === 'applied') applied++;
    return applied;
  }

  /** The committee for an epoch, if it is one the device holds (current or previous). */
  committeeFor(epoch: number): PreparedCommittee | undefined {
    const { committee, previousCommittee } = this.current;
    if (committee.committee.epoch === epoch) return committee;
    if (previousCommittee?.committee.epoch === epoch) return previousCommittee;
    return undefined;
  }

  private checkSignature(
    sb: StateBlock,
    committee: PreparedCommittee,
    transition: boolean,
    nextCommittee?: Committee | null,
  ): PreparedCommittee | null {
    try {
      if (transition && nextCommittee)
        return verifyCommitteeTransition(this.crypto, committee, sb, nextCommittee);
      verifyStateBlock(this.crypto, sb, committee);
      return null;
    } catch (err) {
      const cause = err instanceof IosnetError ? err.code : '';
      let code: DeviceErrorCode = 'DEVICE_STATE_BLOCK_FORGED';
      if (cause === 'VERIFY_INSUFFICIENT_WEIGHT') code = 'DEVICE_STATE_BLOCK_UNDERSIGNED';
      else if (transition) code = 'DEVICE_TRANSITION_UNSIGNED';
      else if (cause !== 'VERIFY_BAD_SIGNATURE' && cause !== 'VERIFY_BITMAP_MISMATCH') {
        code =
          cause === 'VERIFY_COMMITTEE_MISMATCH' ? 'DEVICE_TRANSITION_UNSIGNED' : 'DEVICE_STATE_BLOCK_FORGED';
      }
      return fail(code, `state block ${sb.index} is rejected`, err);
    }
  }
}

function fail(code: DeviceErrorCode, message: string, cause?: unknown, data = {}): never {
  return deviceFail(code, message, cause, data);
}
