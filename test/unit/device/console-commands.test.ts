/** The device's signing commands on its console (docs/flashing.md §11), over an in-memory line. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { equalBytes } from '../../../core/bytes.js';
import {
  decodeErrorBody,
  decodeSignedRegistration,
  encodeFrame,
  encodeSignRegistration,
  type Frame,
  MessageType,
  SlipDecoder,
} from '../../../core/serial-protocol.js';
import { encodeTxBody, type TxBody, txIdOfBody } from '../../../core/tx.js';
import { answerConsoleCommand, serveConsoleCommands } from '../../../device/console-commands.js';
import { createMemoryKeyStore } from '../../../device/keystore.js';
import { testCrypto as crypto } from '../../helpers/crypto.js';

const keyStore = createMemoryKeyStore({
  crypto,
  boardId: 'emu-x64',
  hardwareSerial: 'EMU-1',
  seed: new Uint8Array(32).fill(9),
});
const owner = crypto.ed25519.getPublicKey(new Uint8Array(32).fill(3));
const opts = { crypto, keyStore, chainId: 'iosnet-test' };

function frameOf(bytes: Uint8Array): Frame {
  const frames: Frame[] = [];
  new SlipDecoder().push(
    bytes,
    (f) => frames.push(f),
    () => {},
  );
  expect(frames).toHaveLength(1);
  return frames[0]!;
}

describe('device signing commands', () => {
  it('SIGN_REGISTRATION: the device signs the body the owner would build, and nothing else leaves it', () => {
    const request = { owner, nonce: 4, fee: 0n, expiry: 1_900_000_000_000 };
    const f = frameOf(
      answerConsoleCommand(opts, {
        type: MessageType.signRegistration,
        body: encodeSignRegistration(request),
      }),
    );
    expect(f.type).toBe(MessageType.registrationSigned);
    const s = decodeSignedRegistration(f.body);
    const body: TxBody = {
      chainId: 'iosnet-test',
      sender: owner,
      nonce: 4,
      expiry: request.expiry,
      fee: 0n,
      payload: {
        kind: 'registerDevice',
        devicePublicKey: keyStore.publicKey,
        boardId: 'emu-x64',
        hardwareSerial: 'EMU-1',
      },
    };
    const id = txIdOfBody(crypto, encodeTxBody(body));
    expect(equalBytes(s.txId, id)).toBe(true);
    expect(crypto.ed25519.verify(s.deviceSignature, id, keyStore.publicKey)).toBe(true);
    expect(s).toMatchObject({
      chainId: 'iosnet-test',
      nonce: 4,
      boardId: 'emu-x64',
      hardwareSerial: 'EMU-1',
    });
    expect(f.body.length).toBeLessThan(400); // fields and a signature: no key material
  });

  it('answers unknown commands and malformed bodies with a typed ERROR frame', () => {
    const unknown = frameOf(answerConsoleCommand(opts, { type: 0xaf, body: new Uint8Array(0) }));
    expect(unknown.type).toBe(MessageType.error);
    expect(decodeErrorBody(unknown.body).code).toBe('DEVICE_COMMAND_UNKNOWN');
    const bad = frameOf(
      answerConsoleCommand(opts, { type: MessageType.signRegistration, body: new Uint8Array([1, 2]) }),
    );
    expect(decodeErrorBody(bad.body).code).toBe('FLASH_FRAME_INVALID');
  });

  it('serves frames from its console input, ignoring text and non-device frames', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const stop = serveConsoleCommands({ ...opts, input, output });
    const got = new Promise<Frame>((resolve) =>
      output.on('data', (c: Uint8Array) => new SlipDecoder().push(c, resolve, () => {})),
    );
    input.write('hello\n');
    input.write(encodeFrame(MessageType.info));
    input.write(
      encodeFrame(
        MessageType.signRegistration,
        encodeSignRegistration({ owner, nonce: 0, fee: 0n, expiry: 1_900_000_000_000 }),
      ),
    );
    expect((await got).type).toBe(MessageType.registrationSigned);
    stop();
  });
});
