/**
 * Transactions through the API of a real one-validator gateway: submission (CBOR, JSON, batches), typed
 * refusals that change nothing, grade-2 answers whose inclusion proofs verify, and grade-1 answers (a
 * league member's signed proposal) through the tracker.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { concatBytes, fromHex, toHex, utf8 } from '../../../../core/bytes.js';
import { type BlockHeaderFields, blockIdOf } from '../../../../core/header.js';
import { merkleRoot } from '../../../../core/merkle.js';
import { decodeTxInclusionProof } from '../../../../core/proofs.js';
import { verifyTxInclusion } from '../../../../core/verify.js';
import { encodeTxBatch } from '../../../../gateway/api/client.js';
import { defaultApiOptions } from '../../../../gateway/api/options.js';
import { startApiServer } from '../../../../gateway/api/server.js';
import { TxTracker } from '../../../../gateway/api/tx-tracker.js';
import { epochOf } from '../../../../gateway/consensus/epochs.js';
import { readKeyFile } from '../../../../gateway/keys/keyfile.js';
import {
  type ApiFixture,
  type Body,
  committeeOf,
  crypto,
  getJson,
  post,
  signedTx,
  startApiFixture,
  waitFor,
} from './fixture.js';

let f: ApiFixture;
let nonce = 0;

beforeAll(async () => {
  f = await startApiFixture();
});
afterAll(() => f?.close());

/** Nothing changed: same pool, same account. */
async function unchanged(run: () => Promise<void>): Promise<void> {
  const before = { size: f.node.mempool.size, account: f.node.state.getAccount(f.funder.address) };
  await run();
  expect(f.node.mempool.size).toBe(before.size);
  expect(f.node.state.getAccount(f.funder.address)).toEqual(before.account);
}

async function untilFinal(id: Uint8Array): Promise<Body> {
  return waitFor(async () => {
    const { body } = await getJson(f, `/txs/${toHex(id)}`);
    return body.status === 'grade2' ? body : undefined;
  });
}

describe('POST /txs and GET /txs/:id', () => {
  test('a CBOR transaction is admitted, gossiped, finalized, and its grade-2 proof verifies', async () => {
    const { bytes, id } = signedTx(f, nonce++);
    const r = await post(f, '/txs', bytes, 'application/cbor');
    expect(r).toEqual({ status: 202, body: { id: toHex(id), status: 'pending' } });
    const final = await untilFinal(id);
    const proof = decodeTxInclusionProof(fromHex(final.proof));
    expect(proof.certificate).not.toBeNull();
    const committee = committeeOf(f, proof.header.epoch);
    expect(verifyTxInclusion(crypto, committee, id, proof)).toMatchObject({ grade: 2, height: final.height });
    expect(final.tx).toBe(toHex(bytes));
    // Timed from submission here: grade 1 (own proposal) and grade 2.
    const { body } = await getJson(f, '/status');
    expect(body.latencyMs.grade2.samples).toBeGreaterThanOrEqual(1);
    expect(body.latencyMs.grade1.samples).toBeGreaterThanOrEqual(1);
    const metrics = await (await fetch(`${f.base}/metrics`)).text();
    expect(Number(/^iosnet_tx_grade2_seconds_count (\d+)$/m.exec(metrics)![1])).toBeGreaterThanOrEqual(1);
    expect(Number(/^iosnet_finalized_txs_total (\d+)$/m.exec(metrics)![1])).toBeGreaterThanOrEqual(1);
  });

  test('JSON {"tx": hex} is accepted too; a second submission of the same bytes is a typed refusal', async () => {
    const { bytes, id } = signedTx(f, nonce++);
    const r = await post(f, '/txs', JSON.stringify({ tx: toHex(bytes) }), 'application/json');
    expect(r.status).toBe(202);
    const again = await post(f, '/txs', bytes, 'application/cbor');
    expect([409, 400]).toContain(again.status);
    expect(['MEMPOOL_DUPLICATE', 'MEMPOOL_NONCE_TOO_LOW']).toContain(again.body.error.code);
    await untilFinal(id);
  });

  test('an unknown id is "unknown"; a malformed one a typed 400', async () => {
    expect((await getJson(f, `/txs/${'00'.repeat(32)}`)).body).toEqual({
      id: '00'.repeat(32),
      status: 'unknown',
    });
    expect((await getJson(f, `/txs/${'00'.repeat(31)}`)).body.error.code).toBe('INVALID_LENGTH');
    expect((await getJson(f, '/txs/xyz')).body.error.code).toBe('INVALID_HEX');
  });
});

describe('refusals are typed and change nothing', () => {
  const cases: [string, () => { body: Uint8Array | string; type: string }, number, string][] = [
    ['bad hex in JSON', () => ({ body: '{"tx":"zz"}', type: 'application/json' }), 400, 'INVALID_HEX'],
    ['odd-length hex', () => ({ body: '{"tx":"abc"}', type: 'application/json' }), 400, 'INVALID_HEX'],
    ['invalid JSON', () => ({ body: '{"tx":', type: 'application/json' }), 400, 'INVALID_JSON'],
    [
      'JSON of another shape',
      () => ({ body: '{"tx":"00","x":1}', type: 'application/json' }),
      400,
      'INVALID_BODY',
    ],
    ['a JSON array', () => ({ body: '["00"]', type: 'application/json' }), 400, 'INVALID_BODY'],
    ['text/plain', () => ({ body: 'hello', type: 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['empty body', () => ({ body: new Uint8Array(), type: 'application/cbor' }), 400, 'INVALID_BODY'],
    [
      'oversize body',
      () => ({ body: new Uint8Array(200_000), type: 'application/cbor' }),
      413,
      'BODY_TOO_LARGE',
    ],
    [
      'non-canonical encoding (version as a 2-byte integer)',
      () => {
        const { bytes } = signedTx(f, nonce);
        return {
          body: concatBytes(new Uint8Array([0x84, 0x18, 0x01]), bytes.subarray(2)),
          type: 'application/cbor',
        };
      },
      400,
      'DECODE_NON_CANONICAL',
    ],
    [
      'truncated',
      () => ({ body: signedTx(f, nonce).bytes.subarray(0, 50), type: 'application/cbor' }),
      400,
      'DECODE_TRUNCATED',
    ],
    [
      'trailing bytes',
      () => ({ body: concatBytes(signedTx(f, nonce).bytes, new Uint8Array([0])), type: 'application/cbor' }),
      400,
      'DECODE_TRAILING_BYTES',
    ],
    [
      'a bad signature',
      () => {
        const b = signedTx(f, nonce).bytes.slice();
        b[b.length - 1]! ^= 1;
        return { body: b, type: 'application/cbor' };
      },
      400,
      'VERIFY_BAD_SIGNATURE',
    ],
    [
      'a nonce already used',
      () => ({ body: signedTx(f, 0).bytes, type: 'application/cbor' }),
      400,
      'MEMPOOL_NONCE_TOO_LOW',
    ],
  ];
  test.each(cases)('%s', async (_name, make, status, code) => {
    await unchanged(async () => {
      const { body, type } = make();
      const r = await post(f, '/txs', body, type);
      expect(r.status).toBe(status);
      expect(r.body).toEqual({ error: { code, message: expect.any(String) } });
    });
  });

  test('a key that is not the sender cannot sign for it (wrong key, same sender field)', async () => {
    const other = readKeyFile(f.files.bucketKeys.team, crypto).key;
    await unchanged(async () => {
      const { bytes } = signedTx(f, nonce, undefined, {
        ...f.funder,
        ed25519: { ...f.funder.ed25519, secretKey: other.ed25519.secretKey },
      });
      const r = await post(f, '/txs', bytes, 'application/cbor');
      expect(r.body.error.code).toBe('VERIFY_BAD_SIGNATURE');
    });
  });
});

describe('POST /txs/batch', () => {
  test('per-transaction results: admitted ones are pending, refused ones carry their code', async () => {
    const a = signedTx(f, nonce++);
    const bad = signedTx(f, nonce).bytes.slice();
    bad[bad.length - 1]! ^= 1;
    const b = signedTx(f, nonce++);
    const r = await post(f, '/txs/batch', encodeTxBatch([a.bytes, bad, b.bytes]), 'application/cbor');
    expect(r.status).toBe(200);
    expect(r.body.admitted).toBe(2);
    expect(r.body.results[0]).toEqual({ id: toHex(a.id), status: 'pending' });
    expect(r.body.results[1].error.code).toBe('VERIFY_BAD_SIGNATURE');
    expect(r.body.results[2]).toEqual({ id: toHex(b.id), status: 'pending' });
    await untilFinal(b.id);
  });

  test('a body that is not one CBOR array is refused whole', async () => {
    await unchanged(async () => {
      const one = signedTx(f, nonce).bytes;
      // A transaction is itself an array: its items are not transactions.
      const r = await post(f, '/txs/batch', one, 'application/cbor');
      expect(r.status).toBe(200);
      expect(r.body.admitted).toBe(0);
      const notArray = await post(f, '/txs/batch', new Uint8Array([0x41, 0x00]), 'application/cbor');
      expect(notArray.body.error.code).toBe('DECODE_UNEXPECTED_TYPE');
      const trailing = await post(f, '/txs/batch', new Uint8Array([0x80, 0x00]), 'application/cbor');
      expect(trailing.body.error.code).toBe('DECODE_TRAILING_BYTES');
      const json = await post(f, '/txs/batch', '[]', 'application/json');
      expect(json.status).toBe(415);
    });
  });
});

describe('grade 1', () => {
  test("a transaction in a league member's not-yet-final proposal is grade 1, with a proof that verifies", async () => {
    // A second API server over the same node, with a tracker fed a proposal signed by the validator's key.
    const tracker = new TxTracker(defaultApiOptions, { now: Date.now });
    const server = await startApiServer({ ...f.node, txTracker: tracker }, { host: '127.0.0.1', port: 0 });
    try {
      const validator = readKeyFile(f.files.nodes[0]!.keyPath, crypto).key;
      const height = f.node.chain.height + 1000;
      const txIds = [1, 2, 3].map((i) => crypto.sha256(utf8(`tx ${i}`)));
      const fields: BlockHeaderFields = {
        chainId: f.files.genesis.chainId,
        shard: 0,
        height,
        epoch: epochOf(f.node.chain.height + 1, f.files.genesis.params),
        view: 0,
        parent: new Uint8Array(32),
        txRoot: merkleRoot(crypto, txIds),
        stateRoot: new Uint8Array(32),
        proposer: 0,
        time: Date.now(),
        txCount: txIds.length,
        lastCommit: new Uint8Array(32),
      };
      const blockId = blockIdOf(crypto, fields);
      const header = { ...fields, proposerSignature: crypto.bls.sign(blockId, validator.bls!.secretKey) };
      tracker.submit(txIds[1]!);
      tracker.proposal({ height, blockId, txIds, valid: true, header });
      const res = await fetch(`http://127.0.0.1:${server.port}/txs/${toHex(txIds[1]!)}`);
      const body = (await res.json()) as { status: string; height: number; index: number; proof: string };
      expect(body).toMatchObject({ status: 'grade1', height, index: 1 });
      const proof = decodeTxInclusionProof(fromHex(body.proof));
      expect(proof.certificate).toBeNull();
      expect(verifyTxInclusion(crypto, committeeOf(f, fields.epoch), txIds[1]!, proof).grade).toBe(1);
      expect(tracker.latencySummary(1).samples).toBe(1);
      // Once the height is final (here: with other blocks), the proposal is forgotten.
      tracker.finalized(height, []);
      const after = (await (
        await fetch(`http://127.0.0.1:${server.port}/txs/${toHex(txIds[1]!)}`)
      ).json()) as {
        status: string;
      };
      expect(after.status).toBe('unknown');
    } finally {
      await server.close();
    }
  });
});
