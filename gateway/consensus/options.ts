/** Consensus timing and limits (docs/consensus.md §4.2: timeouts grow by timeoutStepMs per view). */
export interface ConsensusOptions {
  /** A proposer with an empty mempool waits this long before proposing an empty block. */
  readonly blockIntervalMs: number;
  /** A proposer with pending transactions waits at least this long after the last decision (batching). */
  readonly minBlockIntervalMs: number;
  /** How often a waiting proposer looks at its mempool again. */
  readonly pollMs: number;
  readonly timeoutProposeMs: number;
  readonly timeoutPrepareMs: number;
  readonly timeoutCommitMs: number;
  readonly timeoutStepMs: number;
  readonly maxClockSkewMs: number;
  readonly maxBlockBytes: number;
  /** Messages for views further ahead are ignored (bounds memory per height). */
  readonly maxViewAhead: number;
  readonly statusIntervalMs: number;
  readonly syncBatch: number;
  readonly syncTimeoutMs: number;
  /**
   * The fraction of a block's not-yet-checked signatures this validator checks when it did not propose the
   * block (docs/consensus.md §5: the sample size a detection probability needs). 1 = every signature.
   */
  readonly sampleFraction: number;
  /**
   * A proposer checks at most this many not-yet-checked relayed transactions per block (~80 µs each, native):
   * bounds the time building takes when sampleFraction < 1 leaves much of the pool unchecked.
   */
  readonly maxConfirmsPerBlock: number;
}

export const defaultConsensusOptions: ConsensusOptions = {
  blockIntervalMs: 500,
  minBlockIntervalMs: 20,
  pollMs: 5,
  timeoutProposeMs: 1000,
  timeoutPrepareMs: 500,
  timeoutCommitMs: 500,
  timeoutStepMs: 500,
  maxClockSkewMs: 2000,
  maxBlockBytes: 4 * 1024 * 1024,
  maxViewAhead: 64,
  statusIntervalMs: 1000,
  syncBatch: 32,
  syncTimeoutMs: 3000,
  sampleFraction: 1,
  maxConfirmsPerBlock: 500,
};
