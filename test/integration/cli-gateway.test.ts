/**
 * `iosnet gateway init | start` and `iosnet tx ...` as an operator runs them: a one-validator gateway in
 * its own process, transactions sent and waited for through its API, and the one-line errors.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { toHex } from '../../core/bytes.js';
import { GatewayClient } from '../../gateway/api/client.js';
import { createNativeCrypto } from '../../gateway/crypto/native.js';
import { createDevnetFiles, type DevnetFiles } from '../../gateway/devnet/files.js';
import { freePort } from '../../gateway/devnet/ports.js';
import { readKeyFile } from '../../gateway/keys/keyfile.js';
import { loadGatewayConfig } from '../../gateway/node/node.js';
import { run } from '../helpers/process.js';

const BIN = join(import.meta.dirname, '../../bin/iosnet.js');
const crypto = createNativeCrypto();
const dir = mkdtempSync(join(tmpdir(), 'iosnet-cli-gw-'));
let files: DevnetFiles;
let gateway: ChildProcess;
let url: string;
let exited: Promise<number | null>;

const iosnet = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [BIN, ...args], { timeoutMs: 60_000, env });

beforeAll(async () => {
  files = await createDevnetFiles(crypto, dir, { validators: 1 });
  gateway = spawn(process.execPath, [BIN, 'gateway', 'start', '--config', files.nodes[0]!.configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  exited = new Promise((r) => gateway.on('exit', (code) => r(code)));
  url = `http://127.0.0.1:${files.nodes[0]!.apiPort}`;
  const client = new GatewayClient(url, { timeoutMs: 1000 });
  for (let i = 0; i < 200; i++) {
    if (
      await client.status().then(
        () => true,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('gateway did not start');
});

afterAll(async () => {
  if (gateway && gateway.exitCode === null) gateway.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('iosnet tx', () => {
  test('send --wait 2: built with the next nonce, signed, final; the recipient holds the amount', async () => {
    const to = new Uint8Array(32).fill(0x42);
    const started = Date.now();
    const r = await iosnet([
      'tx',
      'send',
      '--key',
      files.bucketKeys.privateSale,
      '--to',
      toHex(to),
      '--amount',
      '12.5',
      '--memo',
      'hello',
      '--gateway',
      url,
      '--wait',
      '2',
      '--json',
    ]);
    const ms = Date.now() - started;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { id: string; grade: number; height: number; status: string };
    expect(out).toMatchObject({ grade: 2, status: 'grade2' });
    const account = await new GatewayClient(url).account(to);
    expect(account.balance).toBe(1_250_000_000n);
    // The measured CLI round trip (process start included) is reported by the API work; keep it sane.
    expect(ms).toBeLessThan(20_000);
  });

  test('stake --wait 1, then unstake: nonces follow', async () => {
    const key = files.bucketKeys.privateSale;
    const a = await iosnet(['tx', 'stake', '--key', key, '--amount', '1', '--gateway', url, '--wait', '1']);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/^grade {3}[12] /m);
    const b = await iosnet(['tx', 'unstake', '--key', key, '--amount', '1', '--gateway', url, '--wait', '2']);
    expect(b.stderr).toBe('');
    expect(b.stdout).toMatch(/^grade {3}2 /m);
  });

  test.each([
    [['send', '--to', 'xyz', '--amount', '1'], 1, /^iosnet tx send: ADDRESS_INVALID: --to must be 32 bytes/],
    [['send', '--to', '00'.repeat(32), '--amount', '1.123456789'], 1, /AMOUNT_INVALID/],
    [['review', '--service', '00'.repeat(32), '--rating', '6'], 2, /--rating must be an integer from 1 to 5/],
    [['send', '--to', '00'.repeat(32), '--amount', '1', '--wait', '3'], 2, /--wait must be 1 or 2/],
  ])('tx %j -> exit %i, one line', async (args, code, message) => {
    const r = await iosnet(['tx', ...args, '--key', files.bucketKeys.privateSale, '--gateway', url]);
    expect(r.code).toBe(code);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  test('unknown key file, unreachable gateway, refused transaction: one line each', async () => {
    const to = '00'.repeat(32);
    const noKey = await iosnet([
      'tx',
      'send',
      '--key',
      join(dir, 'nope.json'),
      '--to',
      to,
      '--amount',
      '1',
      '--gateway',
      url,
    ]);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(
      /^iosnet tx send: KEYFILE_UNREADABLE: .*nope\.json: cannot open \(ENOENT\)\n$/,
    );
    const port = await freePort();
    const down = await iosnet([
      'tx',
      'send',
      '--key',
      files.bucketKeys.privateSale,
      '--to',
      to,
      '--amount',
      '1',
      '--gateway',
      `127.0.0.1:${port}`,
    ]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(
      /^iosnet tx send: GATEWAY_UNREACHABLE: cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)\n$/,
    );
    const stale = await iosnet([
      'tx',
      'send',
      '--key',
      files.bucketKeys.privateSale,
      '--to',
      to,
      '--amount',
      '1',
      '--gateway',
      url,
      '--nonce',
      '0',
    ]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(
      /^iosnet tx send: MEMPOOL_NONCE_TOO_LOW: the gateway refused the transfer: /,
    );
  });
});

/** `iosnet gateway init --json` of a new gateway in `gdir` on the test chain. */
const gatewayInit = (gdir: string, listen: string, api: string, ...more: string[]) =>
  iosnet([
    'gateway',
    'init',
    '--dir',
    gdir,
    '--genesis',
    files.genesisPath,
    '--listen',
    listen,
    '--api',
    api,
    ...more,
    '--json',
  ]);

describe('iosnet gateway', () => {
  test('init: a 0600 validator key and a config that loads; refuses to overwrite', async () => {
    const gdir = join(dir, 'new-gateway');
    const r = await gatewayInit(gdir, '127.0.0.1:7999', '127.0.0.1:8999', '--peer', '127.0.0.1:7001');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      key: string;
      config: string;
      inGenesis: boolean;
      genesisArgument: string;
    };
    expect(out.inGenesis).toBe(false);
    expect(out.genesisArgument).toBe(`--validator ${out.key}@127.0.0.1:7999`);
    expect(statSync(out.key).mode & 0o777).toBe(0o600);
    expect(readKeyFile(out.key, crypto).key.bls).toBeDefined();
    const config = loadGatewayConfig(out.config);
    expect(config.p2p).toEqual({ listen: '127.0.0.1:7999', peers: ['127.0.0.1:7001'] });
    expect(config.dataDir).toBe(join(gdir, 'data'));
    const again = await iosnet(['gateway', 'init', '--dir', gdir, '--genesis', files.genesisPath]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists: choose another --dir/);
  });

  test('start: --byzantine is hidden and refused outside test mode; config errors are one line', async () => {
    const help = await iosnet(['gateway', 'start', '--help']);
    expect(help.stdout).not.toMatch(/byzantine/);
    const refused = await iosnet([
      'gateway',
      'start',
      '--config',
      files.nodes[0]!.configPath,
      '--byzantine',
      'equivocate',
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe("iosnet gateway start: unknown option '--byzantine'\n");
    const missing = await iosnet(['gateway', 'start', '--config', join(dir, 'missing.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('start: a listen port in use is a one-line typed error naming the config key', async () => {
    const running = files.nodes[0]!;
    const gdir = join(dir, 'port-clash');
    const init = await gatewayInit(gdir, `127.0.0.1:${await freePort()}`, `127.0.0.1:${running.apiPort}`);
    expect(init.code).toBe(0);
    const { config } = JSON.parse(init.stdout) as { config: string };
    const r = await iosnet(['gateway', 'start', '--config', config]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `iosnet gateway start: LISTEN_ADDRESS_IN_USE: api: 127.0.0.1:${running.apiPort} is already in use (set another port in api.listen)\n`,
    );
  });

  test('start: SIGTERM closes the running gateway cleanly, exit 0', async () => {
    gateway.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
