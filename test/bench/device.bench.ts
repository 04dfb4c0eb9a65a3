/**
 * `npm run bench:device [-- --json] [-- --accounts N] [-- --members N] [-- --changes N]`: the device light
 * client's budgets (issue 4). Progress on stderr; last line of stdout: one JSON object.
 *   imageMqttGzBytes              the device image entry (device/main.ts: config, key store, anchor,
 *                                 client, MQTT transport with mqtt.js's client), flash-scripts/bundle.ts
 *                                 (esbuild node18 + terser) then gzip -9. Target <= 150 KB.
 *   syncBytesPerCommitteeChange   what a device downloads to cross one committee change of `members`
 *                                 members: the transition's StateBlockAnnouncement (state block + next
 *                                 committee), the largest of `changes`. Cross-checked by a sparse GetStateBlocks sync across
 *                                 `changes` changes (syncBytesSparsePerChange). Target <= 4 KB.
 *   syncMsPerCommitteeChange      device CPU per change, portable (noble) crypto: decode the announcement,
 *                                 parse the 64 new keys, verify the previous committee's aggregate. Median.
 *   accountProofBytes             an account's StateProof in a tree of `accounts` accounts (median of 200);
 *                                 accountProofResponseBytes adds the state block it is under (RecordProof).
 *                                 Target <= 800.
 *   lightClientRssMb              resident memory of a bundled light client holding a verified head with
 *                                 64-member committees, after sync and an account proof, minus a bare Node
 *                                 (same binary, same flags) measured in the same run. Target <= 16 MB.
 *   fanoutDevices, fanoutP99Ms    `fanout-devices` simulated device connections (registered on chain, each
 *                                 with its own signed token) on ONE gateway's embedded broker; p99 of the
 *                                 delay from the gateway's finalization of a state block to its receipt at
 *                                 each device, over `fanout-blocks` state blocks (device-fanout.ts says how).
 *                                 Target <= 500 ms. `--fanout-devices 0` skips it.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEVICE_NODE_FLAGS } from '../../boards/types.js';
import { createPortableCrypto } from '../../core/crypto-portable.js';
import {
  decodeStateBlockAnnouncement,
  encodeDeviceResponse,
  encodeStateBlockAnnouncement,
} from '../../core/device-protocol.js';
import { encodeStateProof } from '../../core/proofs.js';
import { MemorySmtStore, SparseMerkleTree } from '../../core/smt-store.js';
import { type AccountState, encodeAccount, stateKey, stateValueHash } from '../../core/state.js';
import { createLightClient } from '../../device/client.js';
import { createMemoryKeyStore } from '../../device/keystore.js';
import { StateBlockSync } from '../../device/sync.js';
import { bundleForDevice } from '../../flash-scripts/bundle.js';
import { createNativeCrypto } from '../../gateway/crypto/native.js';
import { makeStateBlock } from '../helpers/chain.js';
import {
  FakeChain,
  FakeGateway,
  genesisAnchor,
  MemoryTransport,
  makeCommittees,
} from '../helpers/device-gateway.js';
import { recordDeviceSessions } from '../helpers/device-replay.js';
import { ed25519Key } from '../helpers/keys.js';
import { run } from '../helpers/process.js';
import { type FanoutResult, measureFanout } from './device-fanout.js';
import { log, machine, median, round } from './harness.js';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean' },
    accounts: { type: 'string', default: '1000000' },
    members: { type: 'string', default: '64' },
    changes: { type: 'string', default: '4' },
    'fanout-devices': { type: 'string', default: '5000' },
    'fanout-blocks': { type: 'string', default: '5' },
  },
  strict: true,
});
const ACCOUNTS = Number(args.accounts);
const MEMBERS = Number(args.members);
const CHANGES = Number(args.changes);
const FANOUT_DEVICES = Number(args['fanout-devices']);
const FANOUT_BLOCKS = Number(args['fanout-blocks']);
const repo = fileURLToPath(new URL('../../', import.meta.url));
const portable = createPortableCrypto((n) => new Uint8Array(randomBytes(n)));

// ---- image size ----
log('bundling the device image (device/main.ts: run/identity commands + mqtt)...');
const REQUIRE_BANNER = "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);";
const image = await bundleForDevice({
  entry: join(repo, 'device/main.ts'),
  target: 'node18',
  banner: REQUIRE_BANNER,
});
const top = [...image.inputs].sort((a, b) => b[1] - a[1]).slice(0, 8);
log(
  `image: ${image.code.length} bytes, ${image.gzipBytes} gz; ${top.map(([k, v]) => `${k} ${(v / 1024).toFixed(1)}K`).join(', ')}`,
);

// ---- sync across committee changes ----
log(`building ${CHANGES} committee changes of ${MEMBERS} members (BLS signing with noble: slow)...`);
const committees = makeCommittees(CHANGES + 1, MEMBERS, 'bench');
const chain = new FakeChain(new Uint8Array(32), committees[0]!);
for (let i = 1; i <= CHANGES; i++) chain.seal(committees[i]);
chain.seal();
const transitions = chain.sealed.filter((s) => s.nextCommittee !== null);
const announcements = transitions.map((s) =>
  encodeStateBlockAnnouncement({ stateBlock: s.stateBlock, id: s.id, nextCommittee: s.nextCommittee }),
);
const syncBytesPerCommitteeChange = Math.max(...announcements.map((a) => a.length));

const applyMs: number[] = [];
for (let round_ = 0; round_ < 3; round_++) {
  const sync = new StateBlockSync(portable, genesisAnchor(chain, committees[0]!));
  for (const a of announcements) {
    const t0 = performance.now();
    sync.apply(decodeStateBlockAnnouncement(a));
    applyMs.push(performance.now() - t0);
  }
}
const syncMsPerCommitteeChange = median(applyMs);
log(`per change: ${syncBytesPerCommitteeChange} bytes, ${round(syncMsPerCommitteeChange, 1)} ms`);

// Cross-check through the client: one sparse sync from genesis over the memory transport.
const keyStore = createMemoryKeyStore({
  crypto: portable,
  boardId: 'rpi4',
  hardwareSerial: 'SN-bench',
  seed: ed25519Key('device/bench').secretKey,
});
const gateway = new FakeGateway(chain);
const client = createLightClient({
  anchor: genesisAnchor(chain, committees[0]!),
  transport: new MemoryTransport(gateway),
  keyStore,
  crypto: portable,
});
const t0 = performance.now();
await client.start();
const fullSyncMs = performance.now() - t0;
await client.close();
const sparseBytes = gateway.bytesOut.get('getStateBlocks') ?? 0;
// The sparse answer also carries the latest (non-transition) state block: not part of any change.
const latestBlockBytes = encodeDeviceResponse({
  kind: 'stateBlocks',
  requestId: 1,
  latestIndex: 0,
  items: [{ stateBlock: chain.latest.stateBlock, nextCommittee: null }],
}).length;
const syncBytesSparsePerChange = (sparseBytes - latestBlockBytes) / CHANGES;

// ---- account proof at ACCOUNTS accounts ----
log(`building a state tree of ${ACCOUNTS} accounts (native crypto)...`);
const native = createNativeCrypto();
const store = new MemorySmtStore();
const tree = new SparseMerkleTree(store, native);
const accountOf = (i: number): AccountState => ({
  balance: BigInt(1_000_000 + i) * 10n ** 8n,
  nonce: i % 50,
  staked: 0n,
  unbonding: 0n,
  unbondingEpoch: 0,
  locked: 0n,
});
const addressOf = (i: number) => native.sha256(Uint8Array.of(3, i >>> 24, i >>> 16, i >>> 8, i));
{
  const updates: [Uint8Array, Uint8Array][] = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    updates.push([
      stateKey(native, 'account', addressOf(i)),
      stateValueHash(native, encodeAccount(accountOf(i))),
    ]);
  }
  store.commit(1, tree.applyBatch(null, 1, updates));
}
const proofSizes: number[] = [];
const responseSizes: number[] = [];
const sb = makeStateBlock(committees[CHANGES]!, { stateRoot: tree.root(1) }).stateBlock;
for (let k = 0; k < 200; k++) {
  const i = (k * 7919) % ACCOUNTS;
  const proof = {
    namespace: 'account' as const,
    id: addressOf(i),
    record: encodeAccount(accountOf(i)),
    proof: tree.prove(1, stateKey(native, 'account', addressOf(i))),
  };
  proofSizes.push(encodeStateProof(proof).length);
  responseSizes.push(
    encodeDeviceResponse({ kind: 'recordProof', requestId: 1, stateBlock: sb, proof }).length,
  );
}

// ---- light client memory ----
log('recording a 64-member session and measuring RSS (bundled client vs bare node)...');
const dir = mkdtempSync(join(tmpdir(), 'iosnet-device-bench-'));
let lightClientRssMb = Number.NaN;
let clientRssMb = Number.NaN;
let baselineRssMb = Number.NaN;
let lightClientRssMbBoardFlags = Number.NaN;
/** The V8 flags boards start images with (boards/types.ts; measured: Node 18 x64 delta 21 MB -> 10 MB). */
const BOARD_NODE_FLAGS = [...DEVICE_NODE_FLAGS];
try {
  const recorded = await recordDeviceSessions({ members: MEMBERS, only: ['honest'] });
  writeFileSync(join(dir, 'device-scenarios.json'), JSON.stringify(recorded.scenarios));
  const check = await bundleForDevice({
    entry: join(repo, 'test/system/fixtures/device-client-check.ts'),
    target: 'node18',
  });
  writeFileSync(join(dir, 'check.mjs'), check.code);
  writeFileSync(
    join(dir, 'bare.mjs'),
    "globalThis.gc?.();process.stdout.write(JSON.stringify({rssMb:process.memoryUsage().rss/1048576})+'\\n');",
  );
  const rss = async (script: string, extra: string[] = [], flags: string[] = []) => {
    const samples: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await run(process.execPath, ['--expose-gc', ...flags, join(dir, script), ...extra], {
        timeoutMs: 300_000,
      });
      if (r.code !== 0) throw new Error(`${script}: ${r.stderr}`);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { rssMb: number; results?: unknown };
      if (out.results && JSON.stringify(out.results) !== JSON.stringify(recorded.expected)) {
        throw new Error(`bundled client disagrees with the host: ${JSON.stringify(out.results)}`);
      }
      samples.push(out.rssMb);
    }
    return median(samples);
  };
  baselineRssMb = await rss('bare.mjs');
  clientRssMb = await rss('check.mjs', ['--rss']);
  lightClientRssMb = clientRssMb - baselineRssMb;
  // The same with V8 sized for a small board: most of the default figure is V8's young generation (16 MB
  // semi-spaces) and GC helper threads, not the client's live heap (~2.5 MB, see heapUsed).
  lightClientRssMbBoardFlags =
    (await rss('check.mjs', ['--rss'], BOARD_NODE_FLAGS)) - (await rss('bare.mjs', [], BOARD_NODE_FLAGS));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// ---- fan-out of state block announcements ----
let fanout: FanoutResult | null = null;
if (FANOUT_DEVICES > 0) {
  fanout = await measureFanout({ devices: FANOUT_DEVICES, stateBlocks: FANOUT_BLOCKS, workers: 1 });
}

const report = {
  ...machine(),
  imageMqttBytes: image.code.length,
  imageMqttGzBytes: image.gzipBytes,
  committeeMembers: MEMBERS,
  committeeChanges: CHANGES,
  syncBytesPerCommitteeChange,
  syncBytesSparsePerChange: round(syncBytesSparsePerChange),
  syncMsPerCommitteeChange: round(syncMsPerCommitteeChange, 1),
  fullSyncMs: round(fullSyncMs),
  accounts: ACCOUNTS,
  accountProofBytes: round(median(proofSizes)),
  accountProofBytesMax: Math.max(...proofSizes),
  accountProofResponseBytes: round(median(responseSizes)),
  // Measured with the V8 flags every board starts images with (boards/types.ts DEVICE_NODE_FLAGS; the
  // emulated boards' bootloader passes them); the same client under Node's default flags beside it.
  lightClientRssMb: round(lightClientRssMbBoardFlags, 1),
  lightClientRssMbDefaultFlags: round(lightClientRssMb, 1),
  boardNodeFlags: BOARD_NODE_FLAGS.join(' '),
  clientRssMb: round(clientRssMb, 1),
  baselineRssMb: round(baselineRssMb, 1),
  ...(fanout ?? { fanoutDevices: 0, fanoutP99Ms: null }),
  targets: {
    imageMqttGzBytes: 150 * 1024,
    syncBytesPerCommitteeChange: 4096,
    accountProofBytes: 800,
    lightClientRssMb: 16,
    fanoutP99Ms: 500,
  },
};
if (!args.json) {
  for (const [k, v] of Object.entries(report)) if (typeof v !== 'object') log(`${k.padEnd(28)} ${v}`);
}
console.log(JSON.stringify(report));
