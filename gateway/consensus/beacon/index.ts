/**
 * The epoch beacon: weighted threshold BLS with a Joint-Feldman DKG run over the chain
 * (docs/consensus.md §3, formats and bounds in docs/beacon.md). Pure and deterministic: no networking,
 * no storage; randomness only where the caller passes it (createDealing).
 */
export {
  allocateShares,
  hamilton,
  MAX_TOTAL_SHARES,
  maxSubThirdShares,
  type ShareAllocation,
  shareIndexesOf,
  shareOwner,
} from './allocation.js';
export {
  COMPLAINT_VERSION,
  type Complaint,
  createComplaint,
  decodeComplaint,
  verifyComplaint,
} from './complaint.js';
export {
  type BeaconContext,
  type BeaconMember,
  contextBytes,
  MAX_BEACON_MEMBERS,
  type PreparedContext,
  prepareContext,
} from './context.js';
export {
  type G1Point,
  type G2Point,
  interpolateAtZero,
  lagrangeAtZero,
  nativePointDecoder,
  type PointDecoder,
  portablePointDecoder,
  setPointDecoder,
} from './curve.js';
export {
  createDealing,
  DEALING_VERSION,
  type Dealing,
  dealingByteLength,
  dealingId,
  decodeDealing,
  type RandomBytes,
  type Share,
  verifyDealingPublic,
} from './dealing.js';
export { DkgTag } from './edwards.js';
export { BATCH_CHECK_MIN_SHARES, type OpenResult, openShares } from './open.js';
export {
  type ComplaintOutcome,
  type DisqualifyReason,
  decodeGroupCommitments,
  encodeG1List,
  memberSecretShares,
  publicShareKey,
  type QualifyResult,
  qualify,
} from './qualify.js';
export {
  beaconMessage,
  beaconSeed,
  type CombineResult,
  combine,
  combineVerified,
  decodePartialSignatures,
  encodePartialSignatures,
  PARTIALS_VERSION,
  type PartialSignature,
  partialSign,
  verifyPartial,
} from './threshold.js';
