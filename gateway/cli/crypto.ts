/**
 * The crypto backend the CLI commands use: the gateway's native one (node:crypto + @chainsafe/blst),
 * byte-identical to the portable backend devices ship (test/unit/core/crypto-backends.test.ts), so a key,
 * signature or hash made here is the one a device computes.
 */
import type { Crypto } from '../../core/crypto.js';
import { createNativeCrypto } from '../crypto/native.js';

let instance: Crypto | undefined;

export function cliCrypto(): Crypto {
  instance ??= createNativeCrypto();
  return instance;
}
