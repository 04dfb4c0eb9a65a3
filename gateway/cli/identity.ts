/** `iosnet identity`: the device identity hash a device registers on chain (core/identity.ts). */
import { toHex } from '../../core/bytes.js';
import { deviceIdentityHash, MAX_BOARD_ID_BYTES, MAX_SERIAL_BYTES } from '../../core/identity.js';
import { defineCommand, printJson, requireOption, UsageError } from './command.js';
import { cliCrypto } from './crypto.js';

const USAGE = `usage: iosnet identity --board ID --pubkey HEX --serial S [--json]

Prints the device identity hash H("iosnet/device-id/v1", cbor([board, pubkey, serial])) that
'device register' puts on chain.

options:
  --board ID      board id (1..${MAX_BOARD_ID_BYTES} bytes), e.g. rpi4
  --pubkey HEX    the device's Ed25519 public key (64 hex digits)
  --serial S      hardware serial number (at most ${MAX_SERIAL_BYTES} bytes)
  --json          print one JSON object
  -h, --help      show this help`;

const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');

export const command = defineCommand({
  usage: USAGE,
  options: {
    board: { type: 'string' },
    pubkey: { type: 'string' },
    serial: { type: 'string' },
    json: { type: 'boolean' },
  },
  run({ values }) {
    const board = requireOption(values.board, 'board');
    const pubkeyHex = requireOption(values.pubkey, 'pubkey');
    if (values.serial === undefined) throw new UsageError('--serial is required');
    const serial = values.serial;
    if (!/^(0x)?[0-9a-fA-F]{64}$/.test(pubkeyHex)) {
      throw new UsageError(
        `--pubkey must be 64 hex digits (an Ed25519 public key), got ${pubkeyHex.length} characters`,
      );
    }
    if (utf8Length(board) > MAX_BOARD_ID_BYTES)
      throw new UsageError(`--board is longer than ${MAX_BOARD_ID_BYTES} bytes`);
    if (utf8Length(serial) > MAX_SERIAL_BYTES)
      throw new UsageError(`--serial is longer than ${MAX_SERIAL_BYTES} bytes`);
    const pubkey = new Uint8Array(Buffer.from(pubkeyHex.replace(/^0x/, ''), 'hex'));
    const hash = toHex(deviceIdentityHash(cliCrypto(), board, pubkey, serial));
    if (values.json) return printJson({ identityHash: hash, board, pubkey: toHex(pubkey), serial });
    console.log(hash);
  },
});
