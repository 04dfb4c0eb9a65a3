/**
 * Hardware in the loop on an emulated board (emu-x64), against a devnet of real gateway processes (one
 * validator, embedded MQTT broker): `iosnet image build` -> flash over a socat pty with the real SerialPort
 * class -> boot (Debian's Node 18) -> `iosnet device register` over the same serial line (the device signs
 * with its own key, the owner co-signs) -> the device connects and syncs over MQTT -> its transfer reaches
 * grade 2 by proof. Every process (gateway, socat, emulator and its device) is stopped by pid in afterAll.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.js';
import { encodeTx, signTx } from '../../core/tx.js';
import { flashImage } from '../../flash-scripts/flash.js';
import { openSerialPort } from '../../flash-scripts/serial.js';
import { genesisAnchorBytes } from '../../gateway/devnet/devices.js';
import { readKeyFile } from '../../gateway/keys/keyfile.js';
import { crypto, TestNet } from '../helpers/gateways.js';
import { run } from '../helpers/process.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const iosnet = join(repo, 'bin', 'iosnet.js');
const BOARD = 'emu-x64';

let dir: string;
let net: TestNet | undefined;
const socats: ChildProcess[] = [];
let emulator: ChildProcess | undefined;
let emulatorLog = '';
let hostPort: string;
let boardPort: string;
let ownerKeyPath: string;
let gatewayUrl: string;

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${emulatorLog.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A socat pty pair (the USB-serial cable) under random names in the test's folder. */
async function ptyPair(name: string): Promise<{ host: string; board: string }> {
  const tag = `${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const host = join(dir, `host-${tag}`);
  const board = join(dir, `board-${tag}`);
  socats.push(
    spawn('/usr/bin/socat', [`pty,raw,echo=0,link=${host}`, `pty,raw,echo=0,link=${board}`], {
      stdio: 'ignore',
    }),
  );
  await waitFor(() => existsSync(host) && existsSync(board), 10_000, 'the socat links');
  return { host, board };
}

function register(args: string[], timeoutMs = 60_000) {
  return run(process.execPath, [iosnet, 'device', 'register', ...args], { timeoutMs });
}

async function stopChild(child: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    process.kill(child.pid!, 'SIGTERM');
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'iosnet-hil-'));
  const prep = await run(join(repo, 'scripts', 'prepare-sysroots.sh'), ['x64', '--quiet'], {
    timeoutMs: 600_000,
  });
  expect(prep.code, prep.stderr).toBe(0);
  net = await TestNet.create(1);
  const node = net.files.nodes[0]!;
  net.configure(0, { mqtt: { listen: `127.0.0.1:${node.mqttPort}` } });
  net.start(0);
  gatewayUrl = `http://127.0.0.1:${node.apiPort}`;
  ownerKeyPath = net.files.bucketKeys.communityIncentives;
  writeFileSync(join(dir, 'anchor.cbor'), genesisAnchorBytes(crypto, net.files.genesis));
  const keygen = await run(process.execPath, [iosnet, 'keygen', '--out', join(dir, 'release.json')]);
  expect(keygen.code, keygen.stderr).toBe(0);
  ({ host: hostPort, board: boardPort } = await ptyPair('reg'));
  await net.waitHeight(0, 2, 60_000);
}, 120_000);

afterAll(async () => {
  await stopChild(emulator);
  for (const s of socats) await stopChild(s, 1000);
  await net?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** `iosnet device register` arguments: port, gateway, then any others. */
const via = (port: string, gateway: string, ...extra: string[]) => [
  '--port',
  port,
  '--owner-key',
  ownerKeyPath,
  '--gateway',
  gateway,
  ...extra,
];

describe(`register a device over serial on ${BOARD}, against a devnet`, () => {
  const image = () => join(dir, 'image.bin');
  const owner = () => readKeyFile(ownerKeyPath, crypto).key;

  it('builds the image, flashes it over a pty with the real SerialPort class and boots it', async () => {
    const build = await run(
      process.execPath,
      [
        iosnet,
        'image',
        'build',
        '--board',
        BOARD,
        '--anchor',
        join(dir, 'anchor.cbor'),
        '--release-key',
        join(dir, 'release.json'),
        '--out',
        image(),
        '--version',
        '1.0.0',
      ],
      { timeoutMs: 60_000 },
    );
    expect(build.code, build.stderr).toBe(0);
    const nodeKey = toHex(readKeyFile(net!.files.nodes[0]!.keyPath, crypto).key.ed25519.publicKey);
    emulator = spawn(
      process.execPath,
      [
        iosnet,
        'board',
        'emulate',
        '--board',
        BOARD,
        '--port',
        boardPort,
        '--flash-dir',
        join(dir, 'flash'),
        '--release-key',
        join(dir, 'release.json'),
        '--broker',
        `mqtt://127.0.0.1:${net!.files.nodes[0]!.mqttPort}`,
        '--audience',
        nodeKey,
        `--device-args=--transact-every 1000 --transfer-to ${toHex(owner().address)}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    emulator.stderr!.setEncoding('utf8').on('data', (d: string) => {
      emulatorLog += d;
    });
    await waitFor(
      () => emulatorLog.includes(`board ${BOARD} on`) || emulator!.exitCode !== null,
      20_000,
      'emulator',
    );
    expect(emulator.exitCode, emulatorLog).toBeNull();
    const port = await openSerialPort(hostPort, 115_200);
    try {
      const r = await flashImage({
        port: port.stream,
        image: new Uint8Array(readFileSync(image())),
        boardId: BOARD,
        crypto,
      });
      expect(r.bootedVersion).toBe('1.0.0');
    } finally {
      await port.close();
    }
    expect(emulatorLog).toMatch(/console: \{"event":"boot"/);
  }, 60_000);

  it('fails with one typed line: wrong board, gateway unreachable, no answer, refused transaction', async () => {
    // Nobody on the board end of these two lines.
    const [quiet, quiet2] = await Promise.all([ptyPair('quiet'), ptyPair('quiet2')]);
    const [wrongBoard, unreachable, noAnswer] = await Promise.all([
      register(via(hostPort, gatewayUrl, '--board', 'emu-arm64')),
      register(via(quiet2.host, 'http://127.0.0.1:1')),
      register(via(quiet.host, gatewayUrl)),
    ]);
    for (const [r, code] of [
      [wrongBoard, 'REGISTER_WRONG_BOARD'],
      [unreachable, 'REGISTER_GATEWAY_UNREACHABLE'],
      [noAnswer, 'REGISTER_NO_ANSWER'],
    ] as const) {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(code);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    // A fee the owner cannot pay: the gateway refuses the co-signed transaction.
    const refused = await register(via(hostPort, gatewayUrl, '--fee', '18000000000000000000'));
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain('REGISTER_REFUSED');
  }, 30_000);

  it('registers over serial, then the device syncs over MQTT and its transfer reaches grade 2', async () => {
    const r = await register(via(hostPort, gatewayUrl, '--board', BOARD, '--json'));
    expect(r.code, r.stderr + emulatorLog.slice(-3000)).toBe(0);
    const reg = JSON.parse(r.stdout) as { identityHash: string; address: string; registeredNow: boolean };
    expect(reg.registeredNow).toBe(true);
    expect(emulatorLog).toContain('"event":"registrationSigned"');
    const dev = (await (await fetch(`${gatewayUrl}/devices/${reg.identityHash}`)).json()) as {
      device: { owner?: string } | null;
    };
    expect(dev.device).not.toBeNull();
    // The owner funds the device, so its periodic transfer (back to the owner) can go through.
    const o = owner();
    const nonce = (await net!.clients[0]!.account(o.address)).nonce;
    const { tx } = signTx(
      crypto,
      {
        chainId: net!.files.genesis.chainId,
        sender: o.ed25519.publicKey,
        nonce,
        expiry: Date.now() + 120_000,
        fee: 0n,
        payload: {
          kind: 'transfer',
          to: Uint8Array.from(Buffer.from(reg.address, 'hex')),
          amount: 1_000n,
          memo: new Uint8Array(0),
        },
      },
      [o.ed25519.secretKey],
    );
    await net!.clients[0]!.submitTx(encodeTx(tx));
    await waitFor(() => /console: \{"event":"synced".*"registered":true/.test(emulatorLog), 40_000, 'synced');
    await waitFor(
      () => /console: \{"event":"tx".*"grade":2/.test(emulatorLog),
      40_000,
      'a transfer at grade 2',
    );
    // Registering again finds the identity on chain and submits nothing.
    const again = await register(via(hostPort, gatewayUrl, '--json'));
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ identityHash: reg.identityHash, registeredNow: false });
  }, 75_000);
});
