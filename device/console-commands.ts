/**
 * The device's signing commands on its console line (docs/flashing.md §11): after boot the board's serial
 * line is the device's stdin/stdout, and the host may send SLIP frames of types 0xA0-0xAF on it. The device
 * answers on stdout with a frame between its JSON lines (0xC0 never occurs in UTF-8 text, so the bootloader
 * tells frames from console lines). The device key never leaves the device: only signatures do.
 */
import type { Readable, Writable } from 'node:stream';
import type { Crypto } from '../core/crypto.js';
import { IosnetError } from '../core/errors.js';
import {
  decodeSignRegistration,
  encodeErrorBody,
  encodeFrame,
  encodeSignedRegistration,
  type Frame,
  isDeviceCommand,
  MessageType,
  SlipDecoder,
} from '../core/serial-protocol.js';
import { buildRegistrationRequest } from './client.js';
import type { DeviceKeyStore } from './keystore.js';

export interface ConsoleCommandOptions {
  readonly input: Readable;
  readonly output: Writable;
  readonly crypto: Crypto;
  readonly keyStore: DeviceKeyStore;
  readonly chainId: string;
  /** One line for the device's log (e.g. "signed registration for owner ..."). */
  readonly log?: (event: Record<string, unknown>) => void;
}

/** The answer to one device command frame (a REGISTRATION_SIGNED or an ERROR frame). */
export function answerConsoleCommand(
  o: Omit<ConsoleCommandOptions, 'input' | 'output'>,
  f: Frame,
): Uint8Array {
  try {
    if (f.type !== MessageType.signRegistration) {
      return encodeFrame(
        MessageType.error,
        encodeErrorBody('DEVICE_COMMAND_UNKNOWN', `unknown device command 0x${f.type.toString(16)}`),
      );
    }
    const q = decodeSignRegistration(f.body);
    const req = buildRegistrationRequest(o.crypto, o.keyStore, {
      chainId: o.chainId,
      owner: q.owner,
      nonce: q.nonce,
      expiry: q.expiry,
      fee: q.fee,
    });
    o.log?.({ event: 'registrationSigned', nonce: q.nonce });
    return encodeFrame(
      MessageType.registrationSigned,
      encodeSignedRegistration({
        txId: req.txId,
        chainId: o.chainId,
        nonce: q.nonce,
        expiry: q.expiry,
        fee: q.fee,
        devicePublicKey: o.keyStore.publicKey,
        boardId: o.keyStore.boardId,
        hardwareSerial: o.keyStore.hardwareSerial,
        deviceSignature: req.deviceSignature,
      }),
    );
  } catch (err) {
    const code = err instanceof IosnetError ? err.code : 'DEVICE_COMMAND_FAILED';
    return encodeFrame(MessageType.error, encodeErrorBody(code, (err as Error).message));
  }
}

/** Serves device commands from `input` until it ends; returns a function that stops serving. */
export function serveConsoleCommands(o: ConsoleCommandOptions): () => void {
  const decoder = new SlipDecoder();
  const onData = (chunk: Uint8Array) =>
    decoder.push(
      chunk,
      (f) => {
        if (isDeviceCommand(f.type)) o.output.write(answerConsoleCommand(o, f));
      },
      () => {},
    );
  o.input.on('data', onData);
  o.input.on('error', () => {});
  // The console never keeps the device alive by itself (a device that fails must exit for the rollback).
  (o.input as Readable & { unref?: () => void }).unref?.();
  return () => {
    o.input.off('data', onData);
    o.input.pause();
  };
}
