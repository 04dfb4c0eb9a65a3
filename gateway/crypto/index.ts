/** The gateway's crypto: node:crypto + @chainsafe/blst behind core's Crypto interface. */
export {
  createNativeCrypto,
  defaultNativeCryptoOptions,
  type KeyCacheStats,
  type NativeCrypto,
  type NativeCryptoOptions,
} from './native.js';
