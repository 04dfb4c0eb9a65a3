export interface StateOptions {
  /** The shard this state belongs to: genesis allocations and validators of other shards are left out. */
  readonly shard: number;
  /**
   * Keep the undo values of every checkpoint (an archive node: stateRecord plus them gives the records at
   * any past checkpoint). Otherwise those older than the latest checkpoint are deleted at each checkpoint.
   */
  readonly archive: boolean;
  /**
   * Checkpoint every this many heights (0: the genesis stateBlockInterval, so that checkpoints are exactly
   * the state blocks' toHeights). Every block writes its record changes (one value); the records that an
   * interval changed are written to stateRecord over the blocks of the next one (store.ts).
   */
  readonly checkpointInterval: number;
  /** Upper bound of the encoded size of one snapshot chunk. */
  readonly snapshotChunkBytes: number;
}

export const defaultStateOptions: StateOptions = {
  shard: 0,
  archive: false,
  checkpointInterval: 0,
  snapshotChunkBytes: 1 << 20,
};
