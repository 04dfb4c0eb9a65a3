/**
 * The handshake over in-memory duplex pairs (no sockets): both roles, every refusal, a man in the middle,
 * and a fixed vector of the key schedule (docs/peer-protocol.md §2.5).
 */
import { createPrivateKey } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8 } from '../../../../core/bytes.js';
import { DecodeError } from '../../../../core/errors.js';
import { HANDSHAKE_VERSION } from '../../../../gateway/network/constants.js';
import { plainFrame } from '../../../../gateway/network/framing.js';
import {
  decodeAuth,
  decodeHello,
  deriveSessionKeys,
  encodeAuth,
  encodeHello,
  HandshakeError,
  type HandshakeErrorCode,
  type HandshakeIdentity,
  type HandshakeParams,
  type HandshakeResult,
  handshakeSignatureMessage,
  performHandshake,
  transcriptHash,
  x25519SharedSecret,
} from '../../../../gateway/network/handshake.js';
import { crypto, duplexPair, identity, sleep } from './helpers.js';

const alice = identity('hs-alice');
const bob = identity('hs-bob');

function params(
  id: HandshakeIdentity,
  role: 'initiator' | 'responder',
  extra: Partial<HandshakeParams> = {},
) {
  return { ...id, role, timeoutMs: 2000, ...extra } as HandshakeParams;
}

async function run(
  a: Duplex,
  b: Duplex,
  pa: HandshakeParams,
  pb: HandshakeParams,
): Promise<[PromiseSettledResult<HandshakeResult>, PromiseSettledResult<HandshakeResult>]> {
  const ra = performHandshake(a, pa);
  const rb = performHandshake(b, pb);
  // A side that fails closes its stream (as tcp.ts does), which the other side sees.
  ra.catch(() => a.destroy());
  rb.catch(() => b.destroy());
  return (await Promise.allSettled([ra, rb])) as [
    PromiseSettledResult<HandshakeResult>,
    PromiseSettledResult<HandshakeResult>,
  ];
}

function codeOf(r: PromiseSettledResult<HandshakeResult>): HandshakeErrorCode | 'ok' {
  if (r.status === 'fulfilled') return 'ok';
  expect(r.reason).toBeInstanceOf(HandshakeError);
  return (r.reason as HandshakeError).code;
}

/** i <-> relay <-> r, with a hook that may rewrite each chunk going either way. */
function relayed(rewrite: (dir: 'i>r' | 'r>i', index: number, chunk: Buffer) => Buffer) {
  const [i, x] = duplexPair();
  const [y, r] = duplexPair();
  let ir = 0;
  let ri = 0;
  x.on('data', (c: Buffer) => y.write(rewrite('i>r', ir++, c)));
  y.on('data', (c: Buffer) => x.write(rewrite('r>i', ri++, c)));
  x.on('end', () => y.end());
  y.on('end', () => x.end());
  return [i, r] as const;
}

describe('handshake', () => {
  it('authenticates both sides and derives matching directional keys', async () => {
    const [a, b] = duplexPair();
    const [ra, rb] = await run(a, b, params(alice, 'initiator'), params(bob, 'responder'));
    expect(codeOf(ra)).toBe('ok');
    expect(codeOf(rb)).toBe('ok');
    const i = (ra as PromiseFulfilledResult<HandshakeResult>).value;
    const r = (rb as PromiseFulfilledResult<HandshakeResult>).value;
    expect(i.peerId).toBe(toHex(bob.nodePublicKey));
    expect(r.peerId).toBe(toHex(alice.nodePublicKey));
    expect(i.sendKey).toEqual(r.receiveKey);
    expect(i.receiveKey).toEqual(r.sendKey);
    expect(i.sendKey).not.toEqual(i.receiveKey);
    expect(i.transcriptHash).toEqual(r.transcriptHash);
    expect(a.isPaused()).toBe(true);
  });

  it('hands bytes that follow the last handshake message to the caller', async () => {
    const [a, b] = duplexPair();
    const ra = performHandshake(a, params(alice, 'initiator'));
    const rb = performHandshake(b, params(bob, 'responder'));
    const i = await ra;
    a.write(Buffer.from('first frame'));
    const r = await rb;
    await sleep(10);
    const rest: Buffer[] = [...r.leftover];
    b.on('data', (c: Buffer) => rest.push(c));
    b.resume();
    await sleep(10);
    expect(Buffer.concat(rest).toString()).toBe('first frame');
    expect(i.leftover).toEqual([]);
  });

  const refusals: [string, Partial<HandshakeIdentity>, HandshakeErrorCode][] = [
    ['another chain', { chainId: 'other-chain' }, 'HANDSHAKE_WRONG_CHAIN'],
    ['another genesis', { genesisHash: new Uint8Array(32) }, 'HANDSHAKE_WRONG_GENESIS'],
  ];
  it.each(refusals)(
    'refuses %s (the responder, on the first hello it sees; it sends nothing back)',
    async (_n, override, code) => {
      for (const oddIsInitiator of [false, true]) {
        const [a, b] = duplexPair();
        const odd = { ...bob, ...override };
        const [ri, rr] = oddIsInitiator
          ? await run(a, b, params(odd, 'initiator'), params(alice, 'responder'))
          : await run(a, b, params(alice, 'initiator'), params(odd, 'responder'));
        expect(codeOf(rr)).toBe(code);
        expect(codeOf(ri)).toBe('HANDSHAKE_CLOSED');
      }
    },
  );

  it('the initiator refuses a responder on another chain too', async () => {
    const [a, b] = duplexPair();
    const ri = performHandshake(a, params(alice, 'initiator'));
    ri.catch(() => {});
    // A responder that answers whatever it is sent, with its own chain id.
    const hello = encodeHello({
      version: HANDSHAKE_VERSION,
      chainId: 'other-chain',
      genesisHash: bob.genesisHash,
      nodePublicKey: bob.nodePublicKey,
      ephemeralPublicKey: crypto.randomBytes(32),
      nonce: crypto.randomBytes(32),
    });
    b.write(plainFrame(hello));
    await expect(ri).rejects.toMatchObject({ code: 'HANDSHAKE_WRONG_CHAIN' });
  });

  it('refuses our own key, and tells a node that dialed itself', async () => {
    const [a, b] = duplexPair();
    const [ra, rb] = await run(a, b, params(alice, 'initiator'), params(alice, 'responder'));
    expect(codeOf(ra)).toBe('HANDSHAKE_SELF');
    expect(codeOf(rb)).toBe('HANDSHAKE_SELF');
  });

  it('refuses what authorize() refuses', async () => {
    const [a, b] = duplexPair();
    const authorize = () => new HandshakeError('HANDSHAKE_REFUSED', 'not allowed');
    const [ra, rb] = await run(a, b, params(alice, 'initiator'), params(bob, 'responder', { authorize }));
    expect(codeOf(rb)).toBe('HANDSHAKE_REFUSED');
    expect(codeOf(ra)).toBe('HANDSHAKE_CLOSED');
  });

  it('refuses a corrupted signature from either side', async () => {
    const flipLast = (c: Buffer) => {
      const out = Buffer.from(c);
      out[out.length - 1]! ^= 1;
      return out;
    };
    // helloR and authR travel as one chunk; authI is the initiator's second chunk.
    let [i, r] = relayed((dir, n, c) => (dir === 'r>i' && n === 0 ? flipLast(c) : c));
    let [ri, rr] = await run(i, r, params(alice, 'initiator'), params(bob, 'responder'));
    expect(codeOf(ri)).toBe('HANDSHAKE_BAD_SIGNATURE');
    expect(codeOf(rr)).toBe('HANDSHAKE_CLOSED');
    [i, r] = relayed((dir, n, c) => (dir === 'i>r' && n === 1 ? flipLast(c) : c));
    [ri, rr] = await run(i, r, params(alice, 'initiator'), params(bob, 'responder'));
    expect(codeOf(rr)).toBe('HANDSHAKE_BAD_SIGNATURE');
  });

  it('a man in the middle who swaps the ephemeral key is caught by the signatures', async () => {
    const [i, r] = relayed((dir, n, c) => {
      if (dir !== 'i>r' || n !== 0) return c;
      const hello = decodeHello(c.subarray(4));
      const mallory = { ...hello, ephemeralPublicKey: crypto.randomBytes(32) };
      return plainFrame(encodeHello(mallory));
    });
    const [ri, rr] = await run(i, r, params(alice, 'initiator'), params(bob, 'responder'));
    expect(codeOf(ri)).toBe('HANDSHAKE_BAD_SIGNATURE');
    expect(codeOf(rr)).not.toBe('ok');
  });

  it('refuses a low-order X25519 key, another version, oversize and malformed messages', async () => {
    const hello = (over: object) =>
      plainFrame(
        encodeHello({
          version: HANDSHAKE_VERSION,
          chainId: bob.chainId,
          genesisHash: bob.genesisHash,
          nodePublicKey: bob.nodePublicKey,
          ephemeralPublicKey: crypto.randomBytes(32),
          nonce: crypto.randomBytes(32),
          ...over,
        }),
      );
    const cases: [Buffer, HandshakeErrorCode][] = [
      [hello({ ephemeralPublicKey: new Uint8Array(32) }), 'HANDSHAKE_BAD_KEY'],
      [hello({ ephemeralPublicKey: Uint8Array.of(1, ...new Uint8Array(31)) }), 'HANDSHAKE_BAD_KEY'],
      [hello({ version: 2 }), 'HANDSHAKE_VERSION'],
      [hello({ nonce: new Uint8Array(31) }), 'HANDSHAKE_MALFORMED'],
      [Buffer.concat([Buffer.from([0, 0, 1, 1]), Buffer.alloc(257)]), 'HANDSHAKE_OVERSIZE'],
      [Buffer.concat([Buffer.from([0, 0, 0, 2]), Buffer.from([0x80, 0x00])]), 'HANDSHAKE_MALFORMED'],
    ];
    for (const [bytes, code] of cases) {
      const [a, b] = duplexPair();
      const rb = performHandshake(b, params(alice, 'responder'));
      a.write(bytes);
      await expect(rb).rejects.toMatchObject({ code });
    }
  });

  it('times out a silent peer, and fails when the stream closes', async () => {
    const [a, b] = duplexPair();
    const t0 = Date.now();
    await expect(performHandshake(b, params(alice, 'responder', { timeoutMs: 100 }))).rejects.toMatchObject({
      code: 'HANDSHAKE_TIMEOUT',
    });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(95);
    a.destroy();
    const [c, d] = duplexPair();
    const rd = performHandshake(d, params(alice, 'responder'));
    c.end();
    await expect(rd).rejects.toMatchObject({ code: 'HANDSHAKE_CLOSED' });
  });

  it('hello and auth decoding is strict', () => {
    const h = encodeHello({
      version: 1,
      chainId: 'c',
      genesisHash: new Uint8Array(32),
      nodePublicKey: new Uint8Array(32),
      ephemeralPublicKey: new Uint8Array(32),
      nonce: new Uint8Array(32),
    });
    expect(() => decodeHello(concatBytes(h, Uint8Array.of(0)))).toThrow(DecodeError);
    expect(() => decodeHello(Uint8Array.of(0x82, 0x02, 0x00))).toThrow(/unsupported version 2/);
    expect(() => decodeAuth(encodeAuth(new Uint8Array(63)))).toThrow(DecodeError);
    expect(decodeAuth(encodeAuth(new Uint8Array(64)))).toEqual(new Uint8Array(64));
  });

  it('separates the two signature messages by role', () => {
    const x = Uint8Array.of(1);
    const y = Uint8Array.of(2);
    expect(handshakeSignatureMessage(crypto, x, y, 'initiator')).not.toEqual(
      handshakeSignatureMessage(crypto, x, y, 'responder'),
    );
    expect(handshakeSignatureMessage(crypto, x, y, 'initiator')).not.toEqual(transcriptHash(crypto, x, y));
  });
});

// ------------------------------------------------------------------------------------------ vector

const X25519_PKCS8_PREFIX = '302e020100300506032b656e04220420';
const x25519Key = (hex: string) =>
  createPrivateKey({ key: Buffer.from(X25519_PKCS8_PREFIX + hex, 'hex'), format: 'der', type: 'pkcs8' });

/**
 * RFC 7748 §6.1's Alice and Bob X25519 keys as the ephemerals, fixed nonces, node keys from seeds 0x01..
 * and 0x02..: every byte of a handshake is reproducible. docs/peer-protocol.md §2.5 lists these values.
 */
describe('handshake vector', () => {
  const nodeI = crypto.ed25519.getPublicKey(new Uint8Array(32).fill(1));
  const nodeR = crypto.ed25519.getPublicKey(new Uint8Array(32).fill(2));
  const ephI = x25519Key('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const ephR = x25519Key('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
  const ephIPub = fromHex('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  const ephRPub = fromHex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
  const common = { version: 1, chainId: 'iosnet-vector', genesisHash: new Uint8Array(32).fill(0x47) };
  const helloI = encodeHello({
    ...common,
    nodePublicKey: nodeI,
    ephemeralPublicKey: ephIPub,
    nonce: new Uint8Array(32).fill(0xa1),
  });
  const helloR = encodeHello({
    ...common,
    nodePublicKey: nodeR,
    ephemeralPublicKey: ephRPub,
    nonce: new Uint8Array(32).fill(0xb2),
  });

  it('matches the documented bytes', () => {
    const shared = x25519SharedSecret(ephI, ephRPub);
    expect(x25519SharedSecret(ephR, ephIPub)).toEqual(shared);
    // RFC 7748 §6.1 shared secret:
    expect(toHex(shared)).toBe('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');
    const th = transcriptHash(crypto, helloI, helloR);
    const keys = deriveSessionKeys(shared, th);
    const got = {
      helloI: toHex(helloI),
      helloR: toHex(helloR),
      transcriptHash: toHex(th),
      initiatorSignatureMessage: toHex(handshakeSignatureMessage(crypto, helloI, helloR, 'initiator')),
      responderSignatureMessage: toHex(handshakeSignatureMessage(crypto, helloI, helloR, 'responder')),
      authI: toHex(
        encodeAuth(
          crypto.ed25519.sign(
            handshakeSignatureMessage(crypto, helloI, helloR, 'initiator'),
            new Uint8Array(32).fill(1),
          ),
        ),
      ),
      authR: toHex(
        encodeAuth(
          crypto.ed25519.sign(
            handshakeSignatureMessage(crypto, helloI, helloR, 'responder'),
            new Uint8Array(32).fill(2),
          ),
        ),
      ),
      initiatorToResponder: toHex(keys.initiatorToResponder),
      responderToInitiator: toHex(keys.responderToInitiator),
    };
    // The spec, recomputed with noble (an implementation independent of node:crypto/OpenSSL):
    const tag = utf8('iosnet/handshake/v1');
    const nobleTh = sha256(concatBytes(Uint8Array.of(tag.length), tag, helloI, helloR));
    expect(toHex(nobleTh)).toBe(got.transcriptHash);
    const okm = hkdf(sha256, shared, nobleTh, utf8('iosnet/handshake/v1/keys'), 64);
    expect(toHex(okm)).toBe(got.initiatorToResponder + got.responderToInitiator);
    const nobleMsgI = sha256(concatBytes(Uint8Array.of(tag.length), tag, helloI, helloR, Uint8Array.of(0)));
    expect(toHex(nobleMsgI)).toBe(got.initiatorSignatureMessage);
    expect(got).toMatchInlineSnapshot(`
      {
        "authI": "8158403133a6ca5dc631c156796eb8001b31fa333ec4219ae55e09604b9cf17e5aab5903fec8f5228c4cd55915bb7d613288a994f4f2d4c82d7c27751871df89f83402",
        "authR": "81584087bd5c430293ad4ae4b90b5bda3c2df4cb6250e48f1f9f40cb04dfa54039c7698c8e257e7cc0beb78e41d13e5e7231132dec53e502c3df7d53d673460b214102",
        "helloI": "86016d696f736e65742d766563746f725820474747474747474747474747474747474747474747474747474747474747474758208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c58208520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a5820a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",
        "helloR": "86016d696f736e65742d766563746f725820474747474747474747474747474747474747474747474747474747474747474758208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b3945820de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f5820b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2",
        "initiatorSignatureMessage": "4b29ae411e30969e7f00f26137821212581ceea07caec4265b94f93b2765018e",
        "initiatorToResponder": "b39c13052e1fbb7f616fc65b570956577979f6797264793577cab49f33a60398",
        "responderSignatureMessage": "944b5ddb1069dc8f09831c2a3e2d64dfb710c88159dcbc7e29b994b963110c77",
        "responderToInitiator": "2204641773c4706f00179f7dc09456be98bd83d5419732af26bc78de5e2158bd",
        "transcriptHash": "c178780d2531614c845b9a11b8405834a220e558d933feb032257b64e6ccbd97",
      }
    `);
  });
});
