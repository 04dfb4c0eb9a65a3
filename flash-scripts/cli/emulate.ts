/** `iosnet board emulate --board ID --port PATH --flash-dir DIR [--release-key KEY]`: an emulated board. */
import { randomBytes } from 'node:crypto';
import { getBoard } from '../../boards/index.js';
import { toHex } from '../../core/bytes.js';
import { createPortableCrypto } from '../../core/crypto-portable.js';
import { defineCommand, requireOption, UsageError } from '../../gateway/cli/command.js';
import { cliCrypto } from '../../gateway/cli/crypto.js';
import { readKeyFile } from '../../gateway/keys/keyfile.js';

const USAGE = `usage: iosnet board emulate --board ID --port PATH --flash-dir DIR [options]

Runs an emulated board on a serial port (one end of a socat pty pair): it speaks the flashing protocol
(docs/flashing.md), keeps two image slots (A/B) in DIR, verifies each image's signature against the
release key pinned at provisioning before boot, rolls back an image that does not boot, and runs it with
Debian's Node 18 (x64 natively, arm64/armv7 under qemu-user) within the board's RAM.

options:
  --board ID              board id (see 'iosnet boards')
  --port PATH             serial port (pty) the board listens on
  --flash-dir DIR         the board's flash (created and provisioned on first use)
  --release-key KEY       provisioning: pin this release key (key file, or 64 hex chars of a public key)
  --serial SN             provisioning: hardware serial (default EMU-<board>-0001)
  --broker URL            the device's MQTT broker (default mqtt://127.0.0.1:1883)
  --audience ID           the device's token audience (default gateway)
  --device-args ARGS      extra arguments for the device's run (e.g. "--transact-every 1500 --transfer-to ADDR")
  --boot-deadline-ms N    a new image must print its boot line within N ms (default 20000 x64, 120000 ARM)
  -h, --help              show this help`;

function releaseKeyHex(value: string): string {
  if (/^[0-9a-f]{64}$/i.test(value)) return value.toLowerCase();
  return toHex(readKeyFile(value, cliCrypto()).key.ed25519.publicKey);
}

export const command = defineCommand({
  usage: USAGE,
  options: {
    board: { type: 'string' },
    port: { type: 'string' },
    'flash-dir': { type: 'string' },
    'release-key': { type: 'string' },
    serial: { type: 'string' },
    broker: { type: 'string' },
    audience: { type: 'string' },
    'boot-deadline-ms': { type: 'string' },
    'device-args': { type: 'string' },
  },
  async run({ values }) {
    const board = getBoard(requireOption(values.board, 'board'));
    const port = requireOption(values.port, 'port');
    const flashDir = requireOption(values['flash-dir'], 'flash-dir');
    const deadline = values['boot-deadline-ms'];
    if (deadline !== undefined && !/^\d+$/.test(deadline))
      throw new UsageError('--boot-deadline-ms wants milliseconds');
    // Loaded here so that `iosnet --help` and other commands never load serialport's native binding.
    const { startEmulator } = await import('../../boards/emulator/emulator.js');
    const emulator = await startEmulator({
      board,
      port,
      flashDir,
      // The board runs what a board has: the portable (noble) crypto, not the gateway's native backend.
      crypto: createPortableCrypto((n) => new Uint8Array(randomBytes(n))),
      ...(values['release-key'] ? { releaseKey: releaseKeyHex(values['release-key']) } : {}),
      ...(values.serial ? { hardwareSerial: values.serial } : {}),
      device: { broker: values.broker ?? 'mqtt://127.0.0.1:1883', audience: values.audience ?? 'gateway' },
      ...(values['device-args']
        ? { deviceArgs: values['device-args'].split(/\s+/).filter((a) => a !== '') }
        : {}),
      ...(deadline ? { bootDeadlineMs: Number(deadline) } : {}),
      log: (line) => console.error(`[${board.id}] ${line}`),
    });
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await emulator.close();
  },
});
