/**
 * Records with what a light client needs to believe them (docs/protocol.md §12):
 *   - by default, a StateProof under the state root of the latest state block, with that state block and
 *     its id (the client checks the state block's collective signature, then the proof against its root);
 *   - with ?at=latest, a StateProof at the latest final height, with that block's header and commit
 *     certificate (the client checks the certificate, then the proof against header.stateRoot).
 * An absent record is answered with its proof of absence (record null), not a 404.
 */
import { toHex } from '../../../core/bytes.js';
import { encodeCommittee } from '../../../core/committee.js';
import { encodeBlockHeader, encodeFinalityCertificate } from '../../../core/header.js';
import { encodeStateProof } from '../../../core/proofs.js';
import {
  decodeAccount,
  decodeDeviceRecord,
  decodeFileRecord,
  EMPTY_ACCOUNT,
  type StateNamespaceName,
} from '../../../core/state.js';
import { encodeStateBlock, type StateBlock, stateBlockIdOf } from '../../../core/state-block.js';
import { TOTAL_SUPPLY } from '../../../core/token.js';
import { notFound } from '../errors.js';
import type { ApiRequest, ApiResponse } from '../http.js';
import type { ApiNode } from '../interface.js';
import { hexParam, onlyQuery, uintParam } from '../params.js';
import { proveAtLatestStateBlock } from '../queries.js';

function proven(node: ApiNode, req: ApiRequest, namespace: StateNamespaceName, id: Uint8Array) {
  onlyQuery(req.query, { at: ['latest', 'stateBlock'] });
  const { state, store } = node;
  if (req.query.get('at') === 'latest') {
    const height = state.height;
    const proof = state.prove(namespace, id);
    const header = height > 0 ? store.getHeader(height) : undefined;
    const certificate = height > 0 ? store.getCertificate(height) : undefined;
    return {
      record: proof.record,
      body: {
        height,
        stateRoot: state.root(),
        proof: encodeStateProof(proof),
        header: header ? encodeBlockHeader(header) : null,
        certificate: certificate ? encodeFinalityCertificate(certificate) : null,
      },
    };
  }
  const { stateBlock: sb, proof } = proveAtLatestStateBlock(node, namespace, id);
  return {
    record: proof.record,
    body: {
      height: sb.toHeight,
      stateRoot: sb.stateRoot,
      proof: encodeStateProof(proof),
      stateBlock: encodeStateBlock(sb),
      stateBlockId: stateBlockIdOf(node.crypto, sb),
      stateBlockIndex: sb.index,
    },
  };
}

export function getAccount(node: ApiNode, req: ApiRequest): ApiResponse {
  const address = hexParam(req.params.address!, 'address', 32);
  const { record, body } = proven(node, req, 'account', address);
  return {
    json: {
      address,
      exists: record !== null,
      account: record ? decodeAccount(record) : EMPTY_ACCOUNT,
      record,
      ...body,
    },
  };
}

export function getDevice(node: ApiNode, req: ApiRequest): ApiResponse {
  const id = hexParam(req.params.identityHash!, 'identityHash', 32);
  const { record, body } = proven(node, req, 'device', id);
  return { json: { identityHash: id, device: record ? decodeDeviceRecord(record) : null, record, ...body } };
}

export function getFile(node: ApiNode, req: ApiRequest): ApiResponse {
  const id = hexParam(req.params.fileRoot!, 'fileRoot', 32);
  const { record, body } = proven(node, req, 'file', id);
  return { json: { fileRoot: id, file: record ? decodeFileRecord(record) : null, record, ...body } };
}

function stateBlockJson(node: ApiNode, sb: StateBlock) {
  const committee = (hash: Uint8Array) => {
    const c = node.store.getCommittee(hash);
    return { hash, object: c ? encodeCommittee(c) : null };
  };
  const { signature, ...fields } = sb;
  return {
    index: sb.index,
    id: stateBlockIdOf(node.crypto, sb),
    stateBlock: encodeStateBlock(sb),
    decoded: { ...fields, signers: signature.signers, signature: signature.signature },
    committee: committee(sb.committee),
    nextCommittee: toHex(sb.nextCommittee) === toHex(sb.committee) ? null : committee(sb.nextCommittee),
  };
}

export function getStateBlock(node: ApiNode, req: ApiRequest): ApiResponse {
  onlyQuery(req.query, {});
  const which = req.params.index!;
  const sb =
    which === 'latest' ? node.store.latestStateBlock() : node.store.getStateBlock(uintParam(which, 'index'));
  if (!sb) throw notFound(which === 'latest' ? 'no state block yet' : `no state block ${which}`);
  return { json: stateBlockJson(node, sb) };
}

/** The total-supply invariant, checked over every account (a full scan: for tests and operators). */
export function getSupply(node: ApiNode, req: ApiRequest): ApiResponse {
  onlyQuery(req.query, {});
  const total = node.state.totalSupply();
  return {
    json: {
      height: node.state.height,
      totalSupply: total,
      expected: TOTAL_SUPPLY,
      intact: total === TOTAL_SUPPLY,
    },
  };
}
