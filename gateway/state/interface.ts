/**
 * The shard state a gateway keeps (docs/consensus.md §2, docs/protocol.md §9): records in one sparse Merkle
 * tree, read by consensus, the mempool and the API, changed only by executing final blocks.
 *
 * Execution happens in an overlay per candidate block (`beginBlock`): consensus executes a proposal before
 * voting, and only the overlay of the block that becomes final is committed. A transaction that breaks a
 * rule throws a TxError and leaves the overlay exactly as it was; a block containing such a transaction is
 * invalid. Consensus plugs its own bookkeeping in through SystemHooks (vote credits, missed proposals,
 * evidence and slashing, DKG and beacon records, epoch boundaries), so the state machine does not know the
 * consensus rules and consensus does not know the storage.
 */

import { IosnetError } from '../../core/errors.js';
import type { ChainParams, Genesis } from '../../core/genesis.js';
import type { FinalityCertificate } from '../../core/header.js';
import type { StateProof } from '../../core/proofs.js';
import type { AccountState, DeviceRecord, FileRecord, StateNamespaceName } from '../../core/state.js';
import type { Transaction } from '../../core/tx.js';

/** A registered validator, keyed in the state by its owner's address (one validator per account). */
export interface ValidatorRecord {
  /** Address of the node key: the account whose stake backs the validator. */
  readonly owner: Uint8Array;
  readonly validatorId: Uint8Array;
  readonly nodePublicKey: Uint8Array;
  readonly blsPublicKey: Uint8Array;
  readonly endpoint: string;
  readonly registeredHeight: number;
  readonly slashed: boolean;
  /** Non-transferable points (docs/consensus.md §2). */
  readonly servi: number;
  /** Behaviour counters, halved at every epoch boundary. */
  readonly done: number;
  readonly missed: number;
  /** Sum over reviews of the provider's services of reviewerStake (whole IOST) * (rating - 1). */
  readonly reviewScoreSum: bigint;
  /** Sum of reviewerStake (whole IOST) over those reviews. */
  readonly reviewStakeSum: bigint;
}

export interface ServiceRecord {
  readonly provider: Uint8Array;
  readonly name: string;
  readonly price: bigint;
  readonly descriptionHash: Uint8Array;
  readonly registeredHeight: number;
  readonly reviewCount: number;
  readonly reviewScoreSum: bigint;
  readonly reviewStakeSum: bigint;
}

/** What the executing block knows about itself. */
export interface BlockContext {
  readonly chainId: string;
  readonly shard: number;
  readonly height: number;
  readonly epoch: number;
  readonly view: number;
  /** header.time, Unix ms: transactions with expiry below it are invalid. */
  readonly time: number;
  /** Owner address of the proposer (receives the fees). */
  readonly proposerOwner: Uint8Array;
  /** The parent's commit certificate carried by the block (null at height 1). */
  readonly lastCommit: FinalityCertificate | null;
  readonly params: ChainParams;
}

export type TxErrorCode =
  | 'TX_WRONG_CHAIN'
  | 'TX_EXPIRED'
  | 'TX_BAD_NONCE'
  | 'TX_INSUFFICIENT_FUNDS'
  | 'TX_WRONG_SHARD'
  | 'TX_DUPLICATE'
  | 'TX_NOT_FOUND'
  | 'TX_FORBIDDEN'
  | 'TX_INVALID'
  | 'TX_UNSUPPORTED';

/** A transaction that breaks a state rule; the overlay is unchanged. */
export class TxError extends IosnetError<TxErrorCode> {}

/** Reads the state at one version (the last final block, or an overlay). */
export interface StateReader {
  /** Height of the last block applied (0 = genesis). */
  readonly height: number;
  getAccount(address: Uint8Array): AccountState;
  getValidator(owner: Uint8Array): ValidatorRecord | undefined;
  /** Every registered validator, in owner-address order (a shard has at most a few thousand). */
  listValidators(): ValidatorRecord[];
  getDevice(identityHash: Uint8Array): DeviceRecord | undefined;
  getService(serviceId: Uint8Array): ServiceRecord | undefined;
  getFile(fileRoot: Uint8Array): FileRecord | undefined;
  /** Raw record bytes of any namespace (consensus keeps its own records, e.g. committees, DKG state). */
  getRecord(namespace: StateNamespaceName | ConsensusNamespace, id: Uint8Array): Uint8Array | undefined;
}

/** Namespaces beyond core's (protocol.md §9): consensus-owned records. Numbers never reused. */
export const ConsensusNamespaces = {
  review: 7,
  blsKey: 8,
  committee: 9,
  dkg: 10,
  beacon: 11,
  slashing: 12,
  epochCandidates: 13,
} as const;
export type ConsensusNamespace = keyof typeof ConsensusNamespaces;

/** Read/write access inside one executing block (SystemHooks use it). */
export interface StateWriter extends StateReader {
  putAccount(address: Uint8Array, account: AccountState): void;
  putValidator(record: ValidatorRecord): void;
  putRecord(namespace: ConsensusNamespace, id: Uint8Array, bytes: Uint8Array | null): void;
}

/** Consensus's part of block execution (implemented in gateway/consensus). */
export interface SystemHooks {
  /** While the genesis state is built (height 0): consensus writes its initial records (committees, seeds). */
  initGenesis(genesis: Genesis, state: StateWriter): void;
  /** Before the block's transactions: credit the lastCommit signers, record missed proposer turns. */
  beginBlock(ctx: BlockContext, state: StateWriter): void;
  /** evidence, dkgDeal, dkgComplaint and beacon transactions (after nonce and fee were charged). */
  applySystemTx(ctx: BlockContext, tx: Transaction, txId: Uint8Array, state: StateWriter): void;
  /** After the transactions: fee accounting is done; epoch-boundary processing happens here. */
  endBlock(ctx: BlockContext, state: StateWriter): void;
}

/** One candidate block being executed. Discarded unless committed. */
export interface BlockExecution extends StateReader {
  readonly context: BlockContext;
  /** Applies one transaction atomically; throws TxError (or VerifyError for a bad signature). */
  apply(tx: Transaction, txId: Uint8Array): void;
  /** Runs SystemHooks.endBlock and returns the state root after the block. Further apply() is refused. */
  finish(): Uint8Array;
}

export interface ChainState extends StateReader {
  readonly genesis: Genesis;
  /** Root after the last final block. */
  root(): Uint8Array;
  /** Opens an overlay on top of the last final block (runs SystemHooks.beginBlock). */
  beginBlock(
    ctx: BlockContext,
    options?: { verifySignatures?: boolean | ((index: number) => boolean) },
  ): BlockExecution;
  /** Makes a finished execution the new final state (its block must extend the current height). */
  commit(execution: BlockExecution): void;
  /** Proof of a record (or its absence) under root(), or under the root of a retained earlier height. */
  prove(namespace: StateNamespaceName, id: Uint8Array, height?: number): StateProof;
  /** Sum of all holdings: must always equal core's TOTAL_SUPPLY. */
  totalSupply(): bigint;
  /** Every registered device at the latest height (a full scan: the dashboard caches it per height). */
  devices?(): Iterable<DeviceRecord>;
  close(): Promise<void>;
}
