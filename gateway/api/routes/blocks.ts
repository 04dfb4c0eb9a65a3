/** GET /blocks/:height: a final block as JSON (header, tx ids, certificate) or its exact bytes (?format=cbor). */
import type { FinalityCertificate } from '../../../core/header.js';
import { ApiError, notFound } from '../errors.js';
import type { ApiRequest, ApiResponse } from '../http.js';
import type { ApiNode } from '../interface.js';
import { onlyQuery, uintParam } from '../params.js';

export function certificateJson(c: FinalityCertificate) {
  return {
    blockId: c.blockId,
    shard: c.shard,
    height: c.height,
    epoch: c.epoch,
    view: c.view,
    signers: c.signature.signers,
    signature: c.signature.signature,
  };
}

export function getBlock(node: ApiNode, req: ApiRequest): ApiResponse {
  onlyQuery(req.query, { format: ['json', 'cbor'] });
  const height = uintParam(req.params.height!, 'height', 1);
  const { store } = node;
  if (height > store.finalizedHeight) throw notFound(`no final block at height ${height} yet`);
  const bytes = store.getBlockBytes(height);
  const certificate = store.getCertificate(height);
  if (!bytes || !certificate) {
    throw new ApiError(410, 'BLOCK_PRUNED', `block ${height} was pruned (blocks from ${store.prunedBelow})`, {
      prunedBelow: store.prunedBelow,
    });
  }
  if (req.query.get('format') === 'cbor') return { bytes, contentType: 'application/cbor' };
  const parsed = store.getBlock(height)!;
  return {
    json: {
      height,
      id: parsed.blockId,
      header: parsed.block.header,
      txIds: parsed.txIds,
      certificate: certificateJson(certificate),
    },
  };
}
