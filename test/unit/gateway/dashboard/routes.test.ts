/**
 * The dashboard's routes on a real one-validator gateway (the API suites' fixture): the page and its script
 * are served, GET /events streams a snapshot then ticks in text/event-stream format, bad query parameters
 * get typed 400s (for /events before any stream starts), and GET /devices pages the registered devices.
 */
import { get, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { toHex } from '../../../../core/bytes.js';
import { deviceIdentityHash } from '../../../../core/identity.js';
import { encodeTx, signTx } from '../../../../core/tx.js';
import { MAX_DEVICE_PAGE } from '../../../../gateway/dashboard/dashboard.js';
import { ed25519Key } from '../../../helpers/keys.js';
import { type ApiFixture, type Body, crypto, getJson, startApiFixture, waitFor } from '../api/fixture.js';

let f: ApiFixture;

beforeAll(async () => {
  f = await startApiFixture();
});
afterAll(() => f?.close());

/** Reads events from a stream until `n` have arrived (each: event name and parsed JSON). */
async function readEvents(
  path: string,
  n: number,
): Promise<{ res: IncomingMessage; events: [string, Body][] }> {
  const res = await new Promise<IncomingMessage>((resolve) => get(f.base + path, resolve));
  const events: [string, Body][] = [];
  let buffer = '';
  res.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${events.length} events`)), 10_000);
    res.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end).split('\n');
        buffer = buffer.slice(end + 2);
        const name = block.find((l) => l.startsWith('event: '))?.slice(7);
        const data = block
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('\n');
        if (name) events.push([name, JSON.parse(data)]);
      }
      if (events.length >= n) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  res.destroy();
  return { res, events };
}

describe('the page', () => {
  test('GET / and GET /dashboard serve the page; its script is served from the gateway (no CDN)', async () => {
    for (const path of ['/', '/dashboard']) {
      const res = await fetch(f.base + path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const html = await res.text();
      expect(html).toContain('<script type="module" src="/dashboard/app.js">');
      expect(html).not.toMatch(/https?:\/\//);
    }
    const js = await fetch(`${f.base}/dashboard/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const text = await js.text();
    expect(text).toContain("new EventSource('/events')");
    expect(text).not.toMatch(/https?:\/\//);
  });
});

describe('GET /events', () => {
  test('a snapshot (with the plotted series) first, then ticks each carrying one new point', async () => {
    const { res, events } = await readEvents('/events', 3);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const [[name, snap], [tickName, tick]] = events as [[string, Body], [string, Body]];
    expect(name).toBe('snapshot');
    expect(snap.chainId).toBe(f.files.genesis.chainId);
    expect(snap.finalizedHeight).toBeGreaterThanOrEqual(0);
    expect(snap.committee).toHaveLength(1);
    expect(Object.keys(snap.committee[0])).toEqual(
      expect.arrayContaining(['believability', 'stake', 'servi', 'reputationPpm', 'missed', 'owner']),
    );
    expect(Array.isArray(snap.series)).toBe(true);
    expect(snap.mqtt).toEqual(expect.objectContaining({ connectedDevices: 0, requestsPerSecond: 0 }));
    expect(tickName).toBe('tick');
    expect(tick.point).toEqual(
      expect.objectContaining({ height: tick.height, finalizedHeight: tick.finalizedHeight }),
    );
    expect(typeof tick.point.txPerSecond).toBe('number');
  });

  test('?series=0: the snapshot without the history', async () => {
    const { events } = await readEvents('/events?series=0', 1);
    expect(events[0]![1].series).toEqual([]);
  });

  test.each([
    ['/events?series=2', 'series'],
    ['/events?history=1', 'history'],
    ['/events?series=1&x=', 'x'],
  ])('%s: 400 INVALID_PARAM naming the parameter, and no stream', async (path, param) => {
    const res = await fetch(f.base + path);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('INVALID_PARAM');
    expect(body.error.message).toContain(param);
    expect(body.error.message).not.toMatch(/\bat \S+:\d+/);
  });

  test('POST /events: 405 like any other route', async () => {
    const res = await fetch(`${f.base}/events`, { method: 'POST' });
    expect(res.status).toBe(405);
  });
});

describe('GET /devices', () => {
  test.each([
    ['?limit=0', 'limit'],
    [`?limit=${MAX_DEVICE_PAGE + 1}`, 'limit'],
    ['?offset=-1', 'offset'],
    ['?offset=1e3', 'offset'],
    ['?page=2', 'page'],
  ])('%s: 400 INVALID_PARAM', async (query, param) => {
    const { status, body } = await getJson(f, `/devices${query}`);
    expect(status).toBe(400);
    expect(body.error.code).toBe('INVALID_PARAM');
    expect(body.error.message).toContain(param);
  });

  test('pages the registered devices, newest first', async () => {
    const owner = f.funder;
    let nonce = (await getJson(f, `/accounts/${toHex(owner.address)}?at=latest`)).body.account
      .nonce as number;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const device = ed25519Key(`device/dashboard-unit-${i}`);
      const hardwareSerial = `unit-${i}`;
      const { tx } = signTx(
        crypto,
        {
          chainId: f.files.genesis.chainId,
          sender: owner.ed25519.publicKey,
          nonce: nonce++,
          expiry: Date.now() + 60_000,
          fee: 0n,
          payload: {
            kind: 'registerDevice',
            devicePublicKey: device.publicKey,
            boardId: 'rpi4',
            hardwareSerial,
          },
        },
        [owner.ed25519.secretKey, device.secretKey],
      );
      const res = await fetch(`${f.base}/txs`, {
        method: 'POST',
        headers: { 'content-type': 'application/cbor' },
        body: encodeTx(tx),
      });
      expect(res.status).toBe(202);
      ids.push(toHex(deviceIdentityHash(crypto, 'rpi4', device.publicKey, hardwareSerial)));
    }
    const all = await waitFor(async () => {
      const { body } = await getJson(f, '/devices');
      return body.total === 3 ? body : undefined;
    });
    expect(all.offset).toBe(0);
    expect(all.limit).toBe(50);
    expect(all.devices.map((d: { identityHash: string }) => d.identityHash).sort()).toEqual([...ids].sort());
    expect(all.devices[0]).toEqual(
      expect.objectContaining({
        boardId: 'rpi4',
        owner: toHex(owner.address),
        lastSeen: null,
        sync: 'unknown',
      }),
    );
    const page2 = (await getJson(f, '/devices?offset=1&limit=1')).body;
    expect(page2.total).toBe(3);
    expect(page2.devices).toHaveLength(1);
    expect(page2.devices[0].identityHash).toBe(all.devices[1].identityHash);
    const past = (await getJson(f, '/devices?offset=10')).body;
    expect(past.devices).toEqual([]);
  });
});
