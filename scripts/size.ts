/**
 * `npm run size [-- --check]`: the size of core's light-client surface as a device image carries it
 * (flash-scripts/bundle.ts: esbuild for Node 18 + terser, then gzip -9).
 *   coreLightClientGzBytes  decode + Ed25519/BLS verify + proof checks (the definition; CI budget)
 *   coreDeviceGzBytes       the same plus what a device also takes from core: tx signing, identity
 * With --check, exits 1 when coreLightClientGzBytes exceeds the 40 KB budget. Last line: one JSON object.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForDevice } from '../flash-scripts/bundle.js';

const BUDGET_BYTES = 40 * 1024;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const lightClientSurface = `
export { createPortableCrypto } from './core/crypto-portable.js';
export { decodeCommittee, prepareCommittee } from './core/committee.js';
export { decodeStateBlock } from './core/state-block.js';
export { decodeStateProof, decodeTxInclusionProof } from './core/proofs.js';
export {
  verifyAccountProof, verifyCommitteeTransition, verifyHeader, verifyStateBlock, verifyStateBlockLink,
  verifyStateProof, verifyTxInclusion,
} from './core/verify.js';
`;
const deviceSurface = `${lightClientSurface}
export { encodeTx, signTx } from './core/tx.js';
export { addressOf, deviceIdentityHash } from './core/identity.js';
`;

const lc = await bundleForDevice({
  entry: { contents: lightClientSurface, resolveDir: root },
  target: 'node18',
});
const dev = await bundleForDevice({ entry: { contents: deviceSurface, resolveDir: root }, target: 'node18' });
for (const [pkg, bytes] of [...lc.inputs].sort((a, b) => b[1] - a[1])) {
  console.log(`${pkg.padEnd(16)} ${(bytes / 1024).toFixed(1).padStart(6)} KB (esbuild-minified input share)`);
}
const report = {
  coreLightClientBytes: lc.code.length,
  coreLightClientGzBytes: lc.gzipBytes,
  coreDeviceGzBytes: dev.gzipBytes,
  budgetGzBytes: BUDGET_BYTES,
  withinBudget: lc.gzipBytes <= BUDGET_BYTES,
};
console.log(JSON.stringify(report));
if (process.argv.includes('--check') && !report.withinBudget) {
  console.error(
    `size: the light client is ${lc.gzipBytes} bytes gzipped, over the ${BUDGET_BYTES}-byte budget`,
  );
  process.exit(1);
}
