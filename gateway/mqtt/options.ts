/** Options of the gateway's MQTT bridge (docs/protocol.md §16.5 lists the defaults devices can rely on). */

export interface MqttBridgeOptions {
  /** Per-device token bucket: requests per second, and burst. */
  readonly requestsPerSecond: number;
  readonly requestBurst: number;
  /** Devices whose rate state is kept (least recently active forgotten first). */
  readonly maxTrackedDevices: number;
  /** Proofs kept by (state root, namespace, id): devices asking for the same record share one proof. */
  readonly proofCacheSize: number;
  /** A StateBlocks response stops once it reaches this many bytes (at least one step is always sent). */
  readonly maxStateBlocksResponseBytes: number;
  /** Token nonces remembered for replay protection; a full memory refuses new connections (fail closed). */
  readonly maxRememberedNonces: number;
  /**
   * External broker only: how long an enrolled token stays a valid broker password. Mosquitto re-checks
   * connected clients when it reloads its files and disconnects those whose entry is gone, so an entry
   * outlives its token's expiry; it goes when the device enrols again, leaves the registry, or after this.
   */
  readonly externalCredentialLifetimeMs: number;
  /** External broker only: anonymous enrolment tokens handled per second (all devices together). */
  readonly enrolmentsPerSecond: number;
  /**
   * Who tokens must be addressed to. Default: the gateway's node public key hex (embedded broker) or the
   * broker URL's host:port (external broker).
   */
  readonly audience?: string;
  /** External broker: Mosquitto's password and ACL files, and its pid file (the gateway SIGHUPs that pid). */
  readonly mosquitto?: {
    readonly passwordFile: string;
    readonly aclFile: string;
    readonly pidFile?: string;
  };
}

export const defaultMqttBridgeOptions: MqttBridgeOptions = {
  requestsPerSecond: 10,
  requestBurst: 20,
  maxTrackedDevices: 100_000,
  proofCacheSize: 4096,
  maxStateBlocksResponseBytes: 16 * 1024,
  maxRememberedNonces: 100_000,
  enrolmentsPerSecond: 50,
  externalCredentialLifetimeMs: 24 * 60 * 60 * 1000,
};
