/**
 * What the consensus engine needs from the rest of the node, and what it tells it.
 */
import type { ParsedBlock } from '../../core/block.js';
import type { BlockHeader, FinalityCertificate } from '../../core/header.js';
import type { StateBlock } from '../../core/state-block.js';
import type { BlockExecution } from '../state/interface.js';
import type { VotePhaseValue } from './messages.js';

/** Finalized blocks as consensus reads and appends them (implemented over gateway/chain). */
export interface FinalizedChain {
  /** Height of the last final block (0 = genesis only). */
  readonly height: number;
  /** Id, time and certificate of the block at `height` (genesis hash/time and null at 0). */
  tip(): { id: Uint8Array; time: number; certificate: FinalityCertificate | null };
  /**
   * Makes the next block final: stores it with its certificate (and the state block it closes, if any) and
   * commits its execution to the state, all in one database transaction.
   */
  append(
    parsed: ParsedBlock,
    certificate: FinalityCertificate,
    execution: BlockExecution,
    stateBlock: StateBlock | null,
  ): void;
  /** Stores a state block that was completed after its block became final (late signatures). */
  addStateBlock(stateBlock: StateBlock): void;
  /** Exact bytes of a final block and its certificate, for peers that catch up. */
  get(height: number): { block: Uint8Array; certificate: Uint8Array } | undefined;
  latestStateBlock(): { stateBlock: StateBlock; id: Uint8Array } | undefined;
}

/**
 * Never two different blocks signed for one (height, view, phase), across restarts: a node that voted,
 * crashed and came back must not equivocate (it would be slashed). Like Tendermint's WAL, the first choice
 * for a slot is recorded durably before the signature leaves the node, and after a restart the node re-sends
 * that same vote instead of going silent (silence would stall a height where every node restarted).
 */
export interface SigningGuard {
  /**
   * The block this node may sign for the slot: `wanted` if it never signed there, else what it signed.
   * `alsoRecord` (saveLock/saveValid calls) is made durable in the same commit as the vote.
   */
  voteFor(
    height: number,
    view: number,
    phase: VotePhaseValue,
    wanted: Uint8Array,
    alsoRecord?: () => void,
  ): Uint8Array;
  /** The lock to resume with after a restart at this height. */
  loadLock(height: number): { blockId: Uint8Array; view: number } | undefined;
  saveLock(height: number, lock: { blockId: Uint8Array; view: number }): void;
  /**
   * The newest block with a prepare certificate at this height (the block's bytes and the certificate's), so a
   * restarted proposer can re-propose it and release the locks of views up to it (docs/consensus.md §4.2).
   */
  loadValid(height: number): { view: number; blockBytes: Uint8Array; certificate: Uint8Array } | undefined;
  saveValid(height: number, valid: { view: number; blockBytes: Uint8Array; certificate: Uint8Array }): void;
  /** Forgets records below a final height (they can no longer conflict). */
  pruneBelow(height: number): void;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** What consensus reports (metrics, API grades, dashboard). */
export interface ConsensusEvents {
  /** A proposal for the current height was received and checked (its transactions reach grade 1). */
  proposal?(info: {
    height: number;
    view: number;
    blockId: Uint8Array;
    txIds: readonly Uint8Array[];
    valid: boolean;
    /** The signed header: with a Merkle proof, what a light client checks for grade 1. */
    header: BlockHeader;
  }): void;
  /** A block became final (grade 2). */
  finalized?(info: {
    parsed: ParsedBlock;
    certificate: FinalityCertificate;
    stateBlock: StateBlock | null;
  }): void;
  viewChange?(info: { height: number; view: number }): void;
  /** Misbehaviour detected and evidence submitted. */
  evidence?(info: { kind: number; offender: number; height: number }): void;
}
