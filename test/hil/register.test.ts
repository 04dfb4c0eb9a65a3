/**
 * Hardware in the loop on the three emulated boards — emu-x64 (Debian's Node 18 natively), emu-arm64 and
 * emu-armv7 (the same Node 18 under qemu-user) — against one devnet of real gateway processes (one
 * validator, embedded broker, `iosnet devnet`'s cadence): `iosnet image build` -> flash over a socat pty with
 * the real SerialPort class -> boot -> `iosnet device register` over the same serial line (the device signs
 * with its own key, the owner co-signs) -> the device connects and syncs over MQTT -> its own transfer
 * reaches grade 2 by proof. The boards run concurrently (each has its own owner account, so their
 * transactions do not compete for nonces); the wall time is that of the slowest board (armv7).
 * Every process (gateway, socat, emulator and its device) is stopped by pid in afterAll.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AllocationBucketName } from '../../core/token.js';
import { encodeTx, signTx } from '../../core/tx.js';
import { crypto } from '../helpers/gateways.js';
import { EmulatedBoard, HilDevnet, prepareSysroots, SerialLine } from '../helpers/hil.js';

/** Each board, its owner account and its time budget (qemu runs Node 10-15x slower than natively). */
const BOARDS: readonly { id: string; owner: AllocationBucketName; timeoutMs: number }[] = [
  { id: 'emu-x64', owner: 'communityIncentives', timeoutMs: 150_000 },
  { id: 'emu-arm64', owner: 'foundation', timeoutMs: 300_000 },
  { id: 'emu-armv7', owner: 'team', timeoutMs: 300_000 },
];

let devnet: HilDevnet | undefined;
const boards = new Map<string, EmulatedBoard>();
/** Per board, when each step ended (ms since the board's test started), reported in afterAll. */
const steps = new Map<string, [string, number][]>();
/**
 * `iosnet image build` once (emu-x64); the other boards' images reuse its bundled entry (all boards run
 * Node 18), re-signed for their board: three builds at once took over 120 s on the loaded 2-core machine.
 */
let built: Promise<string> | undefined;
const imageFor = async (id: string) => {
  built ??= devnet!.buildImage('emu-x64', '1.0.0', 240_000);
  const x64 = await built;
  return id === 'emu-x64' ? x64 : devnet!.imageForBoard(x64, id);
};

beforeAll(async () => {
  await prepareSysroots(BOARDS.map((b) => b.id));
  devnet = await HilDevnet.start();
}, 600_000);

afterAll(async () => {
  await Promise.all([...boards.values()].map((b) => b.close()));
  await devnet?.close();
  const lines = [...steps].map(([id, s]) => `${id}: ${s.map(([name, ms]) => `${name} ${ms} ms`).join(', ')}`);
  if (lines.length > 0) process.stderr.write(`HIL steps (cumulative):\n${lines.join('\n')}\n`);
}, 60_000);

/** Funds the device from its owner, so the device's periodic transfer (back to the owner) can go through. */
async function fund(owner: AllocationBucketName, address: string): Promise<void> {
  const net = devnet!.net;
  const o = devnet!.owner(owner);
  const nonce = (await net.clients[0]!.account(o.address)).nonce;
  const { tx } = signTx(
    crypto,
    {
      chainId: net.files.genesis.chainId,
      sender: o.ed25519.publicKey,
      nonce,
      expiry: Date.now() + 120_000,
      fee: 0n,
      payload: {
        kind: 'transfer',
        to: Uint8Array.from(Buffer.from(address, 'hex')),
        amount: 1_000n,
        memo: new Uint8Array(0),
      },
    },
    [o.ed25519.secretKey],
  );
  await net.clients[0]!.submitTx(encodeTx(tx));
}

describe.concurrent('flash -> boot -> register -> sync over MQTT -> a transfer at grade 2, per board', () => {
  it.each(BOARDS)(
    '$id',
    async ({ id, owner, timeoutMs }) => {
      const t0 = Date.now();
      const done: [string, number][] = [];
      steps.set(id, done);
      const step = (name: string) => done.push([name, Date.now() - t0]);
      try {
        const image = await imageFor(id);
        step('image');
        const ownerAddress = Buffer.from(devnet!.owner(owner).address).toString('hex');
        // Every 2 s, not TestNet-fast: each round proves the account and the grade (BLS under qemu, ~1 s).
        const board = await EmulatedBoard.start(devnet!, id, {
          deviceArgs: `--transact-every 2000 --transfer-to ${ownerAddress}`,
        });
        boards.set(id, board);
        const boot = await board.flashAndBoot(image);
        expect(boot.bootedVersion).toBe('1.0.0');
        expect(board.log).toMatch(/console: \{"event":"boot"/);
        step('flashed+booted');

        const r = await board.register(devnet!, ['--board', id, '--json'], { owner });
        expect(r.code, r.stderr + board.tail(3000)).toBe(0);
        const reg = JSON.parse(r.stdout) as { identityHash: string; address: string; registeredNow: boolean };
        expect(reg.registeredNow).toBe(true);
        expect(board.log).toContain('"event":"registrationSigned"');
        const dev = (await (await fetch(`${devnet!.gatewayUrl}/devices/${reg.identityHash}`)).json()) as {
          device: unknown;
        };
        expect(dev.device).not.toBeNull();
        step('registered');

        await fund(owner, reg.address);
        const left = () => Math.max(1, t0 + timeoutMs - 10_000 - Date.now());
        await board.waitForLine(/console: \{"event":"synced".*"registered":true/, left(), 'the synced line');
        step('synced');
        await board.waitForLine(/console: \{"event":"tx".*"grade":2/, left(), 'a transfer at grade 2');
        step('tx at grade 2');

        // Registering again finds the identity on chain and submits nothing.
        const again = await board.register(devnet!, ['--json'], { owner });
        expect(again.code, again.stderr).toBe(0);
        expect(JSON.parse(again.stdout)).toMatchObject({
          identityHash: reg.identityHash,
          registeredNow: false,
        });
        step('registered again');
      } finally {
        step('end');
      }
    },
    300_000,
  );

  it('register fails with one typed line: wrong board, gateway unreachable, no answer, refused', async () => {
    // A second emu-x64, booted and not registered (a registered one would not submit anything).
    const board = await EmulatedBoard.start(devnet!, 'emu-x64');
    boards.set('emu-x64 (failures)', board);
    await board.flashAndBoot(await imageFor('emu-x64'));
    const owner = 'earlyInvestorsAdvisors';
    // Nobody on the board end of these two lines.
    const [quiet, quiet2] = await Promise.all([
      SerialLine.open(devnet!, 'quiet'),
      SerialLine.open(devnet!, 'quiet2'),
    ]);
    try {
      const [wrongBoard, unreachable, noAnswer] = await Promise.all([
        board.register(devnet!, ['--board', 'emu-arm64'], { owner }),
        quiet2.register(devnet!, [], { owner, gateway: 'http://127.0.0.1:1' }),
        quiet.register(devnet!, [], { owner }),
      ]);
      for (const [res, code] of [
        [wrongBoard, 'REGISTER_WRONG_BOARD'],
        [unreachable, 'REGISTER_GATEWAY_UNREACHABLE'],
        [noAnswer, 'REGISTER_NO_ANSWER'],
      ] as const) {
        expect(res.code, res.stderr).toBe(1);
        expect(res.stderr.trim().split('\n')).toHaveLength(1);
        expect(res.stderr).toContain(code);
        expect(res.stderr).not.toMatch(/\n\s+at /);
      }
      // A fee the owner cannot pay: the gateway refuses the co-signed transaction.
      const refused = await board.register(devnet!, ['--fee', '18000000000000000000'], { owner });
      expect(refused.code, refused.stderr).toBe(1);
      expect(refused.stderr).toContain('REGISTER_REFUSED');
    } finally {
      await Promise.all([quiet.close(), quiet2.close()]);
    }
  }, 180_000);
});
