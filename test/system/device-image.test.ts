/**
 * The device image itself: device/main.ts bundled as flash-scripts bundle it (esbuild node18 + terser,
 * mqtt.js's client inside) boots on Debian's Node 18 (x64 chroot) and on the host's Node, connects to a
 * real MQTT broker on the host with a signed token, syncs across two committee changes and prints the
 * proven account; a bad config is one line and exit 1.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.js';
import { encodeAnchor } from '../../device/anchor.js';
import { createMemoryKeyStore, encodeKeyFile } from '../../device/keystore.js';
import { bundleForDevice } from '../../flash-scripts/bundle.js';
import { testCrypto as crypto } from '../helpers/crypto.js';
import { startDeviceBroker, type TestBroker } from '../helpers/device-broker.js';
import { buildDeviceScenario, DEVICE_START_BALANCE } from '../helpers/device-gateway.js';
import { ed25519Key } from '../helpers/keys.js';
import { run } from '../helpers/process.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const node18 = join(repo, 'scripts', 'node18');
/** mqtt.js is CommonJS: in an ESM bundle its require() calls of node builtins need a real require. */
const REQUIRE_BANNER = "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);";
const seed = ed25519Key('device/image').secretKey;
const keyStore = createMemoryKeyStore({ crypto, boardId: 'rpi4', hardwareSerial: 'SN-image', seed });
let dir: string;
let broker: TestBroker;
let imageGzBytes = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'iosnet-device-image-'));
  const s = buildDeviceScenario({ ...keyStore, owner: ed25519Key('owner').address });
  broker = await startDeviceBroker(s.gateway, keyStore);
  const image = await bundleForDevice({
    entry: join(repo, 'device/main.ts'),
    target: 'node18',
    banner: REQUIRE_BANNER,
  });
  imageGzBytes = image.gzipBytes;
  writeFileSync(join(dir, 'image.mjs'), image.code);
  writeFileSync(join(dir, 'anchor.cbor'), encodeAnchor(s.anchor));
  writeFileSync(join(dir, 'device.key'), encodeKeyFile(seed), { mode: 0o600 });
  const config = {
    broker: `mqtt://127.0.0.1:${broker.port}`,
    audience: 'test-broker',
    anchor: 'anchor.cbor',
    keyFile: 'device.key',
    boardId: keyStore.boardId,
    hardwareSerial: keyStore.hardwareSerial,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...config, broker: 'ws://nope' }));
  const prep = await run(join(repo, 'scripts', 'prepare-sysroots.sh'), ['x64', '--quiet'], {
    timeoutMs: 600_000,
  });
  expect(prep.code, prep.stderr).toBe(0);
}, 600_000);

afterAll(async () => {
  await broker?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const expected = {
  event: 'synced',
  identityHash: toHex(keyStore.identityHash),
  stateBlockIndex: 4,
  epoch: 3,
  balance: DEVICE_START_BALANCE.toString(),
  nonce: 0,
  registered: true,
};

describe.each([
  ['the host Node', process.execPath, [] as string[]],
  ['Debian Node 18 (x64)', node18, ['--arch', 'x64', '--bind', '/tmp', '--']],
])('device image on %s', (_name, cmd, prefix) => {
  it('syncs over MQTT and prints the proven account', async () => {
    expect(imageGzBytes).toBeLessThanOrEqual(150 * 1024);
    const r = await run(
      cmd,
      [...prefix, join(dir, 'image.mjs'), 'run', '--config', join(dir, 'config.json'), '--once'],
      {
        timeoutMs: 120_000,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual(expected);
  }, 180_000);

  it('reports a bad config in one line', async () => {
    const r = await run(cmd, [...prefix, join(dir, 'image.mjs'), 'run', '--config', join(dir, 'bad.json')], {
      timeoutMs: 120_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^iosnet-device run: DEVICE_CONFIG_INVALID: config\.broker: [^\n]+$/);
  }, 180_000);
});
