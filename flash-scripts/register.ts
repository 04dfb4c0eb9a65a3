/**
 * `iosnet device register` (docs/flashing.md §11): registers the device on a board's serial line. The
 * board's running device signs the register-device transaction with its own key (SIGN_REGISTRATION on the
 * console line: the key never leaves the board), the owner rebuilds the body from the fields, checks that
 * it hashes to the id the device signed and that the device signature verifies, co-signs, submits it to a
 * gateway, and waits until the gateway's state (GET /devices/:identityHash, a proven read) holds the
 * identity.
 */
import type { Duplex } from 'node:stream';
import { equalBytes, toHex } from '../core/bytes.js';
import type { Crypto } from '../core/crypto.js';
import { IosnetError } from '../core/errors.js';
import { addressOf, deviceIdentityHash } from '../core/identity.js';
import {
  type BoardInfo,
  decodeErrorBody,
  decodeInfo,
  decodeSignedRegistration,
  encodeSignRegistration,
  FlashError,
  type Frame,
  MessageType,
  type SignedRegistration,
  SLIP_END,
} from '../core/serial-protocol.js';
import { encodeTx, encodeTxBody, type TxBody, txIdOfBody } from '../core/tx.js';
import type { GatewayClient } from '../gateway/api/client.js';
import { FrameLink } from './flash.js';

export type RegisterErrorCode =
  | 'REGISTER_NO_ANSWER'
  | 'REGISTER_WRONG_BOARD'
  | 'REGISTER_NOT_RUNNING'
  | 'REGISTER_DEVICE_REFUSED'
  | 'REGISTER_BAD_ANSWER'
  | 'REGISTER_WRONG_CHAIN'
  | 'REGISTER_GATEWAY_UNREACHABLE'
  | 'REGISTER_REFUSED'
  | 'REGISTER_TIMEOUT';

export class RegisterError extends IosnetError<RegisterErrorCode> {}

export interface RegisterOptions {
  readonly port: Duplex;
  readonly crypto: Crypto;
  readonly gateway: GatewayClient;
  /** The owner: the register-device transaction's sender, who co-signs it. */
  readonly owner: {
    readonly publicKey: Uint8Array;
    readonly secretKey: Uint8Array;
    readonly address: Uint8Array;
  };
  /** The board the operator expects on the port (optional): refused when the board says otherwise. */
  readonly boardId?: string;
  readonly fee?: bigint;
  readonly ttlMs?: number;
  /** Per serial request (INFO is tried 3 times); default 3 s, SIGN_REGISTRATION 10 s. */
  readonly timeoutMs?: number;
  /** How long to wait for the identity to be on chain; default 60 s. */
  readonly waitMs?: number;
  readonly onConsole?: (text: string) => void;
  readonly now?: () => number;
}

export interface RegisterResult {
  readonly boardId: string;
  readonly identityHash: string;
  readonly devicePublicKey: string;
  readonly address: string;
  readonly txId: string | null;
  /** false when the chain already held this identity (nothing was submitted). */
  readonly registeredNow: boolean;
  /** The final height the gateway proved the record at. */
  readonly height: number | null;
  readonly ms: number;
}

async function gatewayCall<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    const code = (err as IosnetError).code;
    if (code === 'GATEWAY_UNREACHABLE' || code === 'GATEWAY_TIMEOUT' || code === 'GATEWAY_BAD_RESPONSE') {
      throw new RegisterError('REGISTER_GATEWAY_UNREACHABLE', `${what}: ${(err as Error).message}`);
    }
    if (err instanceof IosnetError) {
      throw new RegisterError('REGISTER_REFUSED', `gateway refused ${what}: ${err.code}: ${err.message}`, {
        gatewayCode: err.code,
      });
    }
    throw new RegisterError('REGISTER_GATEWAY_UNREACHABLE', `${what}: ${(err as Error).message}`);
  }
}

/** The device record under identityHash from the gateway's state, with the height it was proven at. */
async function deviceOnChain(
  gateway: GatewayClient,
  identityHash: string,
): Promise<{ present: boolean; height: number | null }> {
  return gatewayCall('GET /devices', async () => {
    let res: Response;
    try {
      res = await fetch(`${gateway.base}/devices/${identityHash}`, { signal: AbortSignal.timeout(5000) });
    } catch (err) {
      throw new IosnetError('GATEWAY_UNREACHABLE', `cannot reach ${gateway.base}: ${(err as Error).message}`);
    }
    if (!res.ok) throw new IosnetError('GATEWAY_BAD_RESPONSE', `GET /devices answered HTTP ${res.status}`);
    const j = (await res.json()) as { device: unknown; height?: unknown };
    return { present: j.device !== null, height: typeof j.height === 'number' ? j.height : null };
  });
}

/** Waits for one of `types` (or the board's ERROR, thrown), skipping anything else. */
async function answer(link: FrameLink, types: readonly number[], what: string, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let f: Frame;
    try {
      f = await link.next(Math.max(1, end - Date.now()), what);
    } catch (err) {
      if (err instanceof FlashError && err.code === 'FLASH_NO_ANSWER') {
        throw new RegisterError(
          'REGISTER_NO_ANSWER',
          `no answer from the board to ${what} within ${timeoutMs} ms`,
        );
      }
      throw err;
    }
    if (types.includes(f.type)) return f;
    if (f.type === MessageType.error) {
      const { code, message } = decodeErrorBody(f.body);
      if (code === 'DEVICE_NOT_RUNNING')
        throw new RegisterError(
          'REGISTER_NOT_RUNNING',
          `the board runs no device image (flash and boot one first)`,
        );
      throw new RegisterError('REGISTER_DEVICE_REFUSED', `board refused ${what}: ${code}: ${message}`, {
        boardCode: code,
      });
    }
  }
}

function badAnswer(message: string): never {
  throw new RegisterError('REGISTER_BAD_ANSWER', message);
}

export async function registerOverSerial(opts: RegisterOptions): Promise<RegisterResult> {
  const { crypto, gateway, owner } = opts;
  const now = opts.now ?? Date.now;
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? 3_000;
  // The gateway first: nothing is asked of the board for a chain we cannot reach.
  const status = await gatewayCall('GET /status', () => gateway.status());
  const account = await gatewayCall('GET /accounts', () => gateway.account(owner.address));
  const link = new FrameLink(opts.port, opts.onConsole);
  try {
    opts.port.write(new Uint8Array([SLIP_END]));
    let info: BoardInfo | undefined;
    for (let attempt = 0; !info; attempt++) {
      link.send(MessageType.info);
      try {
        info = decodeInfo((await answer(link, [MessageType.infoOk], 'INFO', timeoutMs)).body);
      } catch (err) {
        if (!(err instanceof RegisterError && err.code === 'REGISTER_NO_ANSWER') || attempt >= 2) throw err;
      }
    }
    if (opts.boardId !== undefined && info.boardId !== opts.boardId) {
      throw new RegisterError(
        'REGISTER_WRONG_BOARD',
        `the board on the port is '${info.boardId}', not '${opts.boardId}'`,
      );
    }
    if (info.activeSlot === null) {
      throw new RegisterError('REGISTER_NOT_RUNNING', 'the board holds no image (flash and boot one first)');
    }
    const request = {
      owner: owner.publicKey,
      nonce: account.nonce,
      fee: opts.fee ?? 0n,
      expiry: now() + (opts.ttlMs ?? 120_000),
    };
    link.send(MessageType.signRegistration, encodeSignRegistration(request));
    const f = await answer(
      link,
      [MessageType.registrationSigned],
      'SIGN_REGISTRATION',
      Math.max(timeoutMs, 10_000),
    );
    let s: SignedRegistration;
    try {
      s = decodeSignedRegistration(f.body);
    } catch (err) {
      badAnswer(`the device's answer does not decode: ${(err as Error).message}`);
    }
    if (s.boardId !== info.boardId) {
      throw new RegisterError(
        'REGISTER_WRONG_BOARD',
        `the device says it is a '${s.boardId}' on a '${info.boardId}' board`,
      );
    }
    if (s.chainId !== status.chainId) {
      throw new RegisterError(
        'REGISTER_WRONG_CHAIN',
        `the device's image is for chain '${s.chainId}', the gateway serves '${status.chainId}'`,
      );
    }
    // The owner signs only what it would have built itself: its key, its nonce and terms, this device's key.
    const body: TxBody = {
      chainId: status.chainId,
      sender: owner.publicKey,
      nonce: request.nonce,
      expiry: request.expiry,
      fee: request.fee,
      payload: {
        kind: 'registerDevice',
        devicePublicKey: s.devicePublicKey,
        boardId: s.boardId,
        hardwareSerial: s.hardwareSerial,
      },
    };
    const txId = txIdOfBody(crypto, encodeTxBody(body));
    if (s.nonce !== request.nonce || s.expiry !== request.expiry || s.fee !== request.fee)
      badAnswer('the device signed other terms than asked');
    if (!equalBytes(txId, s.txId)) badAnswer('the device signed another transaction than the owner built');
    if (!crypto.ed25519.verify(s.deviceSignature, txId, s.devicePublicKey))
      badAnswer("the device's signature does not verify under its public key");
    const identityHash = toHex(deviceIdentityHash(crypto, s.boardId, s.devicePublicKey, s.hardwareSerial));
    const result = {
      boardId: s.boardId,
      identityHash,
      devicePublicKey: toHex(s.devicePublicKey),
      address: toHex(addressOf(crypto, s.devicePublicKey)),
    };
    const before = await deviceOnChain(gateway, identityHash);
    if (before.present) {
      return { ...result, txId: null, registeredNow: false, height: before.height, ms: Date.now() - started };
    }
    const tx = encodeTx({
      body,
      signatures: [crypto.ed25519.sign(txId, owner.secretKey), s.deviceSignature],
    });
    await gatewayCall('POST /txs', () => gateway.submitTx(tx));
    const deadline = Date.now() + (opts.waitMs ?? 60_000);
    for (;;) {
      const r = await deviceOnChain(gateway, identityHash);
      if (r.present) {
        return {
          ...result,
          txId: toHex(txId),
          registeredNow: true,
          height: r.height,
          ms: Date.now() - started,
        };
      }
      const view = await gatewayCall('GET /txs', () => gateway.tx(toHex(txId)));
      if (view.status === 'unknown' && now() > request.expiry) {
        throw new RegisterError(
          'REGISTER_REFUSED',
          `transaction ${toHex(txId)} expired before it was included`,
        );
      }
      if (Date.now() > deadline) {
        throw new RegisterError(
          'REGISTER_TIMEOUT',
          `identity ${identityHash} not on chain after ${opts.waitMs ?? 60_000} ms (tx ${toHex(txId)}: ${view.status})`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    link.close();
  }
}
