/**
 * Authenticated key exchange of the peer protocol (docs/peer-protocol.md §2), a Noise-XX-shaped pattern
 * (three messages, both static keys transmitted and proven) built from node:crypto primitives, with the
 * static keys proven by Ed25519 signatures over the transcript (as TLS 1.3 and SIGMA do) rather than by
 * Noise's static DH, because iosnet node keys are Ed25519 signing keys:
 *
 *   -> helloI                      initiator: [version, chainId, genesisHash, nodeKey, ephemeralX25519, nonce]
 *   <- helloR, authR               responder: same fields; authR = [Ed25519(nodeKeyR, H(tag, helloI||helloR||0x01))]
 *   -> authI                       initiator: [Ed25519(nodeKeyI, H(tag, helloI||helloR||0x00))]
 *
 * tag = "iosnet/handshake/v1". Each signature covers both hellos, hence both ephemeral keys and nonces:
 * it binds the signer's node key to this session's DH (no key-compromise of other sessions, no replay), and
 * the role byte stops a signature from being reflected back. Session keys:
 *   okm = HKDF-SHA256(ikm = X25519(eI, eR), salt = H(tag, helloI||helloR), info = "iosnet/handshake/v1/keys", 64)
 *   initiator->responder key = okm[0..32], responder->initiator key = okm[32..64]   (AES-256-GCM)
 * Every message is a plain frame: u32be(length) || CBOR, length <= 256.
 *
 * Not provided: identity hiding (node keys travel in clear; they are public validator keys anyway) and
 * rekeying (a connection closes after maxFramesPerKey frames and redials).
 */
import { createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { equalBytes, toHex, utf8 } from '../../core/bytes.js';
import { CborReader, CborWriter } from '../../core/cbor.js';
import type { Crypto } from '../../core/crypto.js';
import { DecodeError, IosnetError } from '../../core/errors.js';
import { taggedHash } from '../../core/hash.js';
import { MAX_CHAIN_ID_BYTES } from '../../core/identity.js';
import {
  ED25519_SIGNATURE_BYTES,
  GENESIS_HASH_BYTES,
  HANDSHAKE_KEYS_INFO,
  HANDSHAKE_TAG,
  HANDSHAKE_VERSION,
  KEY_BYTES,
  MAX_HANDSHAKE_MESSAGE_BYTES,
  NONCE_BYTES,
  ROLE_INITIATOR,
  ROLE_RESPONDER,
} from './constants.js';
import { FrameError, FrameReader, plainFrame } from './framing.js';
import type { PeerId } from './interface.js';

export type HandshakeErrorCode =
  /** Not finished within handshakeTimeoutMs (a silent or slow remote). */
  | 'HANDSHAKE_TIMEOUT'
  /** A handshake message announced more than 256 bytes (garbage, or another protocol). */
  | 'HANDSHAKE_OVERSIZE'
  /** Not a valid canonical hello or auth (data.cause carries the DecodeError). */
  | 'HANDSHAKE_MALFORMED'
  | 'HANDSHAKE_VERSION'
  | 'HANDSHAKE_WRONG_CHAIN'
  | 'HANDSHAKE_WRONG_GENESIS'
  /** The remote presented our own node key (a reflected connection, or a dial to ourselves). */
  | 'HANDSHAKE_SELF'
  /** The node refused this key (allow-list, ban, peer limit). */
  | 'HANDSHAKE_REFUSED'
  /** An X25519 key that gives no usable shared secret (low-order point). */
  | 'HANDSHAKE_BAD_KEY'
  | 'HANDSHAKE_BAD_SIGNATURE'
  /** The stream ended or failed before the handshake finished. */
  | 'HANDSHAKE_CLOSED';

export class HandshakeError extends IosnetError<HandshakeErrorCode> {}

export interface Hello {
  readonly version: number;
  readonly chainId: string;
  readonly genesisHash: Uint8Array;
  readonly nodePublicKey: Uint8Array;
  readonly ephemeralPublicKey: Uint8Array;
  readonly nonce: Uint8Array;
}

export type HandshakeRole = 'initiator' | 'responder';

// ----------------------------------------------------------------------------------------------- codec

export function encodeHello(h: Hello): Uint8Array {
  return new CborWriter(192)
    .array(6)
    .uint(h.version)
    .text(h.chainId)
    .bytes(h.genesisHash)
    .bytes(h.nodePublicKey)
    .bytes(h.ephemeralPublicKey)
    .bytes(h.nonce)
    .finish();
}

/**
 * Strict decode. The version is read first and an unknown one is DECODE_UNKNOWN_VERSION whatever follows,
 * so a future version may change the other fields and still be refused with the right reason.
 */
export function decodeHello(bytes: Uint8Array): Hello {
  const r = new CborReader(bytes);
  const n = r.array('hello', { min: 1, max: 16 });
  const version = r.uint('hello.version');
  if (version !== HANDSHAKE_VERSION) {
    throw new DecodeError('DECODE_UNKNOWN_VERSION', `hello.version: unsupported version ${version}`, {
      field: 'hello.version',
      got: version,
    });
  }
  if (n !== 6) {
    throw new DecodeError('DECODE_INVALID_LENGTH', `hello: expected 6 items, got ${n}`, { field: 'hello' });
  }
  const hello: Hello = {
    version,
    chainId: r.text('hello.chainId', MAX_CHAIN_ID_BYTES),
    genesisHash: r.bytesField('hello.genesisHash', GENESIS_HASH_BYTES),
    nodePublicKey: r.bytesField('hello.nodePublicKey', KEY_BYTES),
    ephemeralPublicKey: r.bytesField('hello.ephemeralPublicKey', KEY_BYTES),
    nonce: r.bytesField('hello.nonce', NONCE_BYTES),
  };
  r.end('hello');
  return hello;
}

export function encodeAuth(signature: Uint8Array): Uint8Array {
  return new CborWriter(72).array(1).bytes(signature).finish();
}

export function decodeAuth(bytes: Uint8Array): Uint8Array {
  const r = new CborReader(bytes);
  r.array('auth', 1);
  const signature = r.bytesField('auth.signature', ED25519_SIGNATURE_BYTES);
  r.end('auth');
  return signature;
}

// ---------------------------------------------------------------------------------------------- crypto

/** H(tag, helloI || helloR): the HKDF salt. */
export function transcriptHash(crypto: Crypto, helloI: Uint8Array, helloR: Uint8Array): Uint8Array {
  return taggedHash(crypto, HANDSHAKE_TAG, helloI, helloR);
}

/** What the side playing `role` signs: H(tag, helloI || helloR || u8(role)). */
export function handshakeSignatureMessage(
  crypto: Crypto,
  helloI: Uint8Array,
  helloR: Uint8Array,
  role: HandshakeRole,
): Uint8Array {
  const roleByte = Uint8Array.of(role === 'initiator' ? ROLE_INITIATOR : ROLE_RESPONDER);
  return taggedHash(crypto, HANDSHAKE_TAG, helloI, helloR, roleByte);
}

export interface SessionKeys {
  readonly initiatorToResponder: Uint8Array;
  readonly responderToInitiator: Uint8Array;
}

export function deriveSessionKeys(sharedSecret: Uint8Array, transcript: Uint8Array): SessionKeys {
  const okm = new Uint8Array(hkdfSync('sha256', sharedSecret, transcript, utf8(HANDSHAKE_KEYS_INFO), 64));
  return { initiatorToResponder: okm.slice(0, 32), responderToInitiator: okm.slice(32, 64) };
}

const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export interface EphemeralKey {
  readonly publicKey: Uint8Array;
  readonly privateKey: KeyObject;
}

export function generateEphemeralKey(): EphemeralKey {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return { publicKey: new Uint8Array(spki.subarray(X25519_SPKI_PREFIX.length)), privateKey };
}

/** X25519 shared secret; HANDSHAKE_BAD_KEY for a key OpenSSL refuses or an all-zero result (RFC 7748 §6.1). */
export function x25519SharedSecret(privateKey: KeyObject, peerPublicKey: Uint8Array): Uint8Array {
  let secret: Uint8Array;
  try {
    const publicKey = createPublicKey({
      key: Buffer.concat([X25519_SPKI_PREFIX, peerPublicKey]),
      format: 'der',
      type: 'spki',
    });
    secret = new Uint8Array(diffieHellman({ privateKey, publicKey }));
  } catch (cause) {
    throw new HandshakeError('HANDSHAKE_BAD_KEY', 'X25519 key refused', { cause });
  }
  if (secret.every((b) => b === 0)) throw new HandshakeError('HANDSHAKE_BAD_KEY', 'X25519 low-order key');
  return secret;
}

// -------------------------------------------------------------------------------------------- protocol

export interface HandshakeIdentity {
  readonly crypto: Crypto;
  readonly nodeSecretKey: Uint8Array;
  readonly nodePublicKey: Uint8Array;
  readonly chainId: string;
  readonly genesisHash: Uint8Array;
}

export interface HandshakeParams extends HandshakeIdentity {
  readonly role: HandshakeRole;
  readonly timeoutMs: number;
  /** Called with the remote's PeerId once its hello is valid; a HandshakeError refuses it. */
  readonly authorize?: (peerId: PeerId) => HandshakeError | undefined;
}

export interface HandshakeResult {
  readonly peerId: PeerId;
  readonly remotePublicKey: Uint8Array;
  readonly sendKey: Uint8Array;
  readonly receiveKey: Uint8Array;
  /** Bytes that followed the last handshake message (the first encrypted frames); the stream is paused. */
  readonly leftover: Buffer[];
  readonly transcriptHash: Uint8Array;
}

/** Checks a peer's hello against ours; the reason to refuse it, if any. */
export function checkHello(id: HandshakeIdentity, hello: Hello): HandshakeError | undefined {
  if (hello.chainId !== id.chainId) {
    return new HandshakeError('HANDSHAKE_WRONG_CHAIN', `peer is on chain ${JSON.stringify(hello.chainId)}`);
  }
  if (!equalBytes(hello.genesisHash, id.genesisHash)) {
    return new HandshakeError('HANDSHAKE_WRONG_GENESIS', `peer genesis ${toHex(hello.genesisHash)}`);
  }
  if (equalBytes(hello.nodePublicKey, id.nodePublicKey)) {
    return new HandshakeError('HANDSHAKE_SELF', 'peer presented our own node key');
  }
  return undefined;
}

function asHandshakeError(e: unknown, what: string): HandshakeError {
  if (e instanceof HandshakeError) return e;
  if (e instanceof FrameError) {
    return new HandshakeError('HANDSHAKE_OVERSIZE', `${what}: ${e.message}`, { cause: e });
  }
  if (e instanceof DecodeError) {
    const code = e.code === 'DECODE_UNKNOWN_VERSION' ? 'HANDSHAKE_VERSION' : 'HANDSHAKE_MALFORMED';
    return new HandshakeError(code, `${what}: ${e.message}`, { cause: e });
  }
  return new HandshakeError('HANDSHAKE_MALFORMED', `${what}: ${String(e)}`, { cause: e });
}

/**
 * Runs one side of the handshake on a fresh duplex stream. Resolves with the session (stream paused,
 * unread bytes in `leftover`) or rejects with a HandshakeError; the caller destroys the stream on failure.
 */
export function performHandshake(stream: Duplex, p: HandshakeParams): Promise<HandshakeResult> {
  return new Promise((resolve, reject) => {
    const { crypto, role } = p;
    const reader = new FrameReader(MAX_HANDSHAKE_MESSAGE_BYTES);
    const ephemeral = generateEphemeralKey();
    const ourHello = encodeHello({
      version: HANDSHAKE_VERSION,
      chainId: p.chainId,
      genesisHash: p.genesisHash,
      nodePublicKey: p.nodePublicKey,
      ephemeralPublicKey: ephemeral.publicKey,
      nonce: crypto.randomBytes(NONCE_BYTES),
    });
    let helloI: Uint8Array | undefined;
    let helloR: Uint8Array | undefined;
    let peer: Hello | undefined;
    let keys: SessionKeys | undefined;
    let done = false;

    const cleanup = () => {
      done = true;
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      stream.off('error', onError);
    };
    const fail = (error: HandshakeError) => {
      if (done) return;
      cleanup();
      reject(error);
    };
    const finish = () => {
      stream.pause(); // before our 'data' listener goes, or chunks would flow to nobody
      cleanup();
      const transcript = transcriptHash(crypto, helloI!, helloR!);
      resolve({
        peerId: toHex(peer!.nodePublicKey),
        remotePublicKey: peer!.nodePublicKey,
        sendKey: role === 'initiator' ? keys!.initiatorToResponder : keys!.responderToInitiator,
        receiveKey: role === 'initiator' ? keys!.responderToInitiator : keys!.initiatorToResponder,
        leftover: reader.drain(),
        transcriptHash: transcript,
      });
    };

    const signature = () =>
      crypto.ed25519.sign(handshakeSignatureMessage(crypto, helloI!, helloR!, role), p.nodeSecretKey);

    const onHello = (body: Uint8Array) => {
      const hello = decodeHello(body);
      const refused = checkHello(p, hello) ?? p.authorize?.(toHex(hello.nodePublicKey));
      if (refused) {
        // A node that dialed itself can only learn it from our hello (no secret in it): send it, then close.
        if (refused.code === 'HANDSHAKE_SELF' && role === 'responder') stream.write(plainFrame(ourHello));
        throw refused;
      }
      peer = hello;
      if (role === 'initiator') {
        helloI = ourHello;
        helloR = body;
      } else {
        helloI = body;
        helloR = ourHello;
      }
      const secret = x25519SharedSecret(ephemeral.privateKey, hello.ephemeralPublicKey);
      keys = deriveSessionKeys(secret, transcriptHash(crypto, helloI, helloR));
      if (role === 'responder') {
        stream.write(Buffer.concat([plainFrame(ourHello), plainFrame(encodeAuth(signature()))]));
      }
    };

    const onAuth = (body: Uint8Array) => {
      const sig = decodeAuth(body);
      const remoteRole: HandshakeRole = role === 'initiator' ? 'responder' : 'initiator';
      const message = handshakeSignatureMessage(crypto, helloI!, helloR!, remoteRole);
      if (!crypto.ed25519.verify(sig, message, peer!.nodePublicKey)) {
        throw new HandshakeError('HANDSHAKE_BAD_SIGNATURE', 'handshake signature does not verify', {
          peerId: toHex(peer!.nodePublicKey),
        });
      }
      if (role === 'initiator') stream.write(plainFrame(encodeAuth(signature())));
      finish();
    };

    const onData = (chunk: Buffer) => {
      try {
        reader.push(chunk);
        while (!done) {
          const body = reader.next();
          if (body === undefined) break;
          // Copy: the body may be a view into a socket chunk, and helloI/helloR outlive it.
          const bytes = new Uint8Array(body);
          if (peer === undefined) onHello(bytes);
          else onAuth(bytes);
        }
      } catch (e) {
        fail(asHandshakeError(e, peer === undefined ? 'hello' : 'auth'));
      }
    };
    const onEnd = () => fail(new HandshakeError('HANDSHAKE_CLOSED', 'stream closed during the handshake'));
    const onError = (cause: Error) =>
      fail(new HandshakeError('HANDSHAKE_CLOSED', `stream error: ${cause.message}`, { cause }));

    const timer = setTimeout(
      () => fail(new HandshakeError('HANDSHAKE_TIMEOUT', `no handshake within ${p.timeoutMs} ms`)),
      p.timeoutMs,
    );
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onError);
    if (role === 'initiator') stream.write(plainFrame(ourHello));
  });
}
