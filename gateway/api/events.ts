/** Several ConsensusEvents listeners as one (consensus takes a single `events` dependency). */
import type { ConsensusEvents } from '../consensus/interface.js';

export function composeEvents(...listeners: readonly (ConsensusEvents | undefined)[]): ConsensusEvents {
  const all = listeners.filter((l): l is ConsensusEvents => l !== undefined);
  return {
    proposal: (info) => {
      for (const l of all) l.proposal?.(info);
    },
    finalized: (info) => {
      for (const l of all) l.finalized?.(info);
    },
    viewChange: (info) => {
      for (const l of all) l.viewChange?.(info);
    },
    evidence: (info) => {
      for (const l of all) l.evidence?.(info);
    },
  };
}
