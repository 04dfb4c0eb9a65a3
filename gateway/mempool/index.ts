/** The gateway's mempool: contract, options and the implementation's factory. */
export {
  type Mempool,
  MempoolError,
  type MempoolErrorCode,
  type PendingTx,
} from './interface.js';
export { createMempool, type MempoolModules } from './mempool.js';
export { defaultMempoolOptions, type MempoolOptions, resolveMempoolOptions } from './options.js';
