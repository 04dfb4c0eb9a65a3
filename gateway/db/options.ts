export interface DbOptions {
  /** Directory of the node's LMDB environment (created if missing). */
  readonly path: string;
  /**
   * Skip fsync at commit. A killed process loses nothing either way (commits are in the OS page cache);
   * only a power loss or kernel crash can lose recent commits with this on. For benchmarks and tests.
   */
  readonly noSync: boolean;
  /** LMDB page size of a new environment; 4096 fits a state that is mostly cached in memory. */
  readonly pageSize: number;
}

export const defaultDbOptions: Omit<DbOptions, 'path'> = {
  noSync: false,
  pageSize: 4096,
};
