/**
 * `iosnet device run|identity` end to end as child processes: config errors are one line with a code and
 * no stack trace; --once syncs over a real broker and prints the verified account.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../../../core/bytes.js';
import { encodeAnchor } from '../../../device/anchor.js';
import { createMemoryKeyStore, encodeKeyFile } from '../../../device/keystore.js';
import { testCrypto as crypto } from '../../helpers/crypto.js';
import { startDeviceBroker } from '../../helpers/device-broker.js';
import { buildDeviceScenario, DEVICE_START_BALANCE } from '../../helpers/device-gateway.js';
import { ed25519Key } from '../../helpers/keys.js';

const bin = fileURLToPath(new URL('../../../bin/iosnet.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'iosnet-device-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function iosnet(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function config(name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

const base = {
  broker: 'mqtt://127.0.0.1:1',
  audience: 'test-broker',
  anchor: 'anchor.cbor',
  keyFile: 'keys/device.key',
  boardId: 'rpi4',
  hardwareSerial: 'SN-cli',
};

describe('iosnet device', () => {
  it.each([
    ['missing --config', [], 2, /--config is required/],
    ['not JSON', ['--config', 'notjson'], 1, /DEVICE_CONFIG_INVALID: config .* is not JSON/],
    ['unknown field', ['--config', 'unknown'], 1, /DEVICE_CONFIG_INVALID: config\.colour: unknown field/],
    ['bad broker', ['--config', 'badbroker'], 1, /DEVICE_CONFIG_INVALID: config\.broker: expected mqtt:/],
    [
      'missing anchor file',
      ['--config', 'noanchor'],
      1,
      /DEVICE_CONFIG_INVALID: config\.anchor: cannot read/,
    ],
    ['bad anchor', ['--config', 'badanchor'], 1, /DEVICE_ANCHOR_INVALID/],
  ])(
    'refuses %s in one line',
    async (_name, args, exitCode, pattern) => {
      config('notjson', '{ broker: ');
      config('unknown', { ...base, colour: 'blue' });
      config('badbroker', { ...base, broker: 'http://x' });
      config('noanchor', { ...base, anchor: 'nope.cbor' });
      writeFileSync(join(dir, 'bad.cbor'), new Uint8Array([0x84, 1]));
      config('badanchor', { ...base, anchor: 'bad.cbor' });
      const a = args.map((x) => (x.startsWith('--') ? x : join(dir, x)));
      const r = await iosnet(['device', 'run', ...a]);
      expect(r.code).toBe(exitCode);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^iosnet device run: /);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    },
    60_000,
  );

  it('identity creates the key (0600) on first boot and prints the identity hash', async () => {
    const file = config('identity.json', { ...base, keyFile: 'id/device.key' });
    const r = await iosnet(['device', 'identity', '--config', file]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { identityHash: string; created: boolean };
    expect(out.created).toBe(true);
    expect(out.identityHash).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(dir, 'id/device.key')).mode & 0o777).toBe(0o600);
  }, 60_000);

  it('run --once syncs over MQTT and prints the proven account', async () => {
    const seed = ed25519Key('device/cli').secretKey;
    const keyStore = createMemoryKeyStore({
      crypto,
      boardId: base.boardId,
      hardwareSerial: base.hardwareSerial,
      seed,
    });
    const s = buildDeviceScenario({ ...keyStore, owner: ed25519Key('owner').address });
    const broker = await startDeviceBroker(s.gateway, keyStore);
    try {
      writeFileSync(join(dir, 'once.cbor'), encodeAnchor(s.anchor));
      writeFileSync(join(dir, 'once.key'), encodeKeyFile(seed), { mode: 0o600 });
      const file = config('once.json', {
        ...base,
        broker: `mqtt://127.0.0.1:${broker.port}`,
        anchor: 'once.cbor',
        keyFile: 'once.key',
      });
      const r = await iosnet(['device', 'run', '--config', file, '--once']);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
      expect(out).toMatchObject({
        event: 'synced',
        identityHash: toHex(keyStore.identityHash),
        stateBlockIndex: 4,
        epoch: 3,
        balance: DEVICE_START_BALANCE.toString(),
        registered: true,
      });
    } finally {
      await broker.close();
    }
  }, 60_000);
});
