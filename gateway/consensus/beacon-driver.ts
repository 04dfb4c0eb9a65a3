/**
 * The beacon's part of block execution: dkgDeal / dkgComplaint / beacon transactions and the DKG's
 * qualification at epoch ends (docs/consensus.md §3). Implemented over gateway/consensus/beacon.
 */
import type { PreparedCommittee } from '../../core/committee.js';
import type { Transaction } from '../../core/tx.js';
import type { BlockContext, StateWriter } from '../state/interface.js';

export interface BeaconDriver {
  applyTx(
    ctx: BlockContext,
    tx: Transaction,
    state: StateWriter,
    committeeOf: (epoch: number) => PreparedCommittee,
  ): void;
  endEpoch(ctx: BlockContext, state: StateWriter, committeeOf: (epoch: number) => PreparedCommittee): void;
}
