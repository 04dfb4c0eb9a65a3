/** `iosnet device register --port PATH --owner-key KEY --gateway URL`: register a board's device over serial. */
import { getBoard } from '../../boards/index.js';
import { GatewayClient } from '../../gateway/api/client.js';
import { defineCommand, printJson, requireOption, UsageError, warn } from '../../gateway/cli/command.js';
import { cliCrypto } from '../../gateway/cli/crypto.js';
import { readKeyFile } from '../../gateway/keys/keyfile.js';

const USAGE = `usage: iosnet device register --port PATH --owner-key KEY --gateway URL [options]

Registers the device running on a board (docs/flashing.md §11): asks it over its serial console to sign
the register-device transaction with its own key (the key never leaves the board), checks and co-signs it
with the owner's key, submits it to the gateway, and waits until the gateway's state holds the device's
identity hash.

options:
  --port PATH        serial port of the board (e.g. /dev/ttyUSB0, or a socat pty)
  --owner-key KEY    the owner's key file (the transaction's sender; pays the fee)
  --gateway URL      gateway HTTP API (e.g. http://127.0.0.1:8080)
  --board ID         refuse unless the board on the port is this one
  --fee N            fee in the smallest unit (default 0)
  --timeout-ms MS    how long to wait for the identity on chain (default 60000)
  --json             print one JSON object
  -h, --help         show this help`;

export const command = defineCommand({
  usage: USAGE,
  options: {
    port: { type: 'string' },
    'owner-key': { type: 'string' },
    gateway: { type: 'string' },
    board: { type: 'string' },
    fee: { type: 'string' },
    'timeout-ms': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values }) {
    const path = requireOption(values.port, 'port');
    const keyPath = requireOption(values['owner-key'], 'owner-key');
    const url = requireOption(values.gateway, 'gateway');
    const board = values.board === undefined ? undefined : getBoard(values.board);
    if (values.fee !== undefined && !/^\d{1,20}$/.test(values.fee))
      throw new UsageError('--fee wants an integer');
    const waitMs = values['timeout-ms'];
    if (waitMs !== undefined && !/^\d{1,9}$/.test(waitMs))
      throw new UsageError('--timeout-ms wants milliseconds');
    const crypto = cliCrypto();
    const { key, warning } = readKeyFile(keyPath, crypto);
    if (warning) warn('device register', warning);
    // Loaded here so that other commands never load serialport's native binding.
    const { openSerialPort } = await import('../serial.js');
    const { registerOverSerial } = await import('../register.js');
    const port = await openSerialPort(path, board?.flash.baud ?? 115_200);
    try {
      const r = await registerOverSerial({
        port: port.stream,
        crypto,
        gateway: new GatewayClient(url, { timeoutMs: 5000 }),
        owner: { publicKey: key.ed25519.publicKey, secretKey: key.ed25519.secretKey, address: key.address },
        ...(board ? { boardId: board.id } : {}),
        ...(values.fee !== undefined ? { fee: BigInt(values.fee) } : {}),
        ...(waitMs !== undefined ? { waitMs: Number(waitMs) } : {}),
      });
      if (values.json) return printJson(r);
      console.log(
        r.registeredNow
          ? `registered ${r.boardId} device ${r.identityHash} (tx ${r.txId}) in ${r.ms} ms`
          : `${r.boardId} device ${r.identityHash} was already registered`,
      );
    } finally {
      await port.close();
    }
  },
});
