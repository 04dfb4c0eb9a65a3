export interface ChainStoreOptions {
  /**
   * Keep every block body, certificate and tx index entry forever. Otherwise, when a state block is
   * stored, bodies older than the previous state block's fromHeight are deleted (docs/consensus.md §7).
   */
  readonly archive: boolean;
}

export const defaultChainStoreOptions: ChainStoreOptions = {
  archive: false,
};
