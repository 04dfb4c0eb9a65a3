/**
 * Transactions: submit (one, or a batch for load generators) and ask where one is.
 *
 *   GET /txs/:id  -> unknown | pending (in this mempool) | grade1 (in a valid, not yet final proposal of a
 *                    league member: TxInclusionProof without certificate) | grade2 (final: with it)
 *   POST /txs     -> one encoded transaction, as application/cbor or JSON {"tx": hex}
 *   POST /txs/batch -> a CBOR array of transactions (each item exactly a transaction's encoding)
 *
 * Admission is the mempool's (typed refusals keep their codes); admitted transactions are timed for the
 * grade latencies and gossiped to the peers in batches.
 */
import { CborReader } from '../../../core/cbor.js';
import { IosnetError } from '../../../core/errors.js';
import { encodeTxInclusionProof } from '../../../core/proofs.js';
import { ApiError, toApiError } from '../errors.js';
import type { ApiRequest, ApiResponse } from '../http.js';
import type { ApiNode } from '../interface.js';
import { hexParam, onlyQuery } from '../params.js';
import { admitTx, txStatusOf } from '../queries.js';

export function getTx(node: ApiNode, req: ApiRequest): ApiResponse {
  onlyQuery(req.query, {});
  const id = hexParam(req.params.id!, 'id', 32);
  const info = txStatusOf(node, id);
  switch (info.status) {
    case 'grade2':
      return {
        json: {
          id,
          status: 'grade2',
          height: info.height,
          index: info.index,
          tx: info.txBytes,
          proof: encodeTxInclusionProof(info.proof),
        },
      };
    case 'grade1':
      return {
        json: {
          id,
          status: 'grade1',
          height: info.height,
          index: info.index,
          view: info.view,
          blockId: info.blockId,
          proof: encodeTxInclusionProof(info.proof),
        },
      };
    case 'pending':
      return { json: { id, status: 'pending', tx: info.txBytes } };
    default:
      return { json: { id, status: 'unknown' } };
  }
}

/** The transaction bytes of a POST /txs body. */
function txBytesOf(req: ApiRequest): Uint8Array {
  if (req.contentType === 'application/cbor' || req.contentType === 'application/octet-stream') {
    return req.body;
  }
  if (req.contentType !== 'application/json') {
    throw new ApiError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'send application/cbor (the encoded transaction) or application/json ({"tx": hex})',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(req.body).toString('utf8'));
  } catch {
    throw new ApiError(400, 'INVALID_JSON', 'body is not valid JSON');
  }
  const tx = (json as { tx?: unknown } | null)?.tx;
  if (
    typeof json !== 'object' ||
    json === null ||
    Array.isArray(json) ||
    Object.keys(json).length !== 1 ||
    typeof tx !== 'string'
  ) {
    throw new ApiError(400, 'INVALID_BODY', 'expected {"tx": "<hex of the encoded transaction>"}');
  }
  return hexParam(tx, 'tx', tx.length / 2);
}

export function postTx(node: ApiNode, req: ApiRequest): ApiResponse {
  onlyQuery(req.query, {});
  const bytes = txBytesOf(req);
  if (bytes.length === 0) throw new ApiError(400, 'INVALID_BODY', 'empty body: expected one transaction');
  return { status: 202, json: admitTx(node, bytes) };
}

export function postTxBatch(node: ApiNode, req: ApiRequest, maxTxs: number): ApiResponse {
  onlyQuery(req.query, {});
  if (req.contentType !== 'application/cbor') {
    throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send application/cbor: an array of transactions');
  }
  // Split into items first (a body that is not one CBOR array is refused whole); each item is then
  // admitted or refused on its own.
  const r = new CborReader(req.body);
  const n = r.array('batch', { max: maxTxs });
  const items: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const start = r.pos;
    r.skip(`batch[${i}]`);
    items.push(req.body.subarray(start, r.pos));
  }
  r.end('batch');
  let admitted = 0;
  const results = items.map((bytes) => {
    try {
      const ok = admitTx(node, bytes);
      admitted++;
      return ok;
    } catch (e) {
      if (!(e instanceof IosnetError)) throw e;
      const err = toApiError(e);
      return { error: { code: err.code, message: err.message } };
    }
  });
  return { json: { admitted, refused: items.length - admitted, results } };
}
