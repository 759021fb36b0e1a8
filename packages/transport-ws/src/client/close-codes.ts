/** WebSocket close codes of the Switchyard protocol v1 (see docs/protocol.md). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  Abnormal: 1006,
  Policy: 1008,
  TooLarge: 1009,
  Internal: 1011,
  ServiceRestart: 1012,
  BadFrame: 4000,
  Unauthorized: 4001,
  Forbidden: 4003,
  RateLimited: 4008,
  SlowConsumer: 4009,
  HeartbeatTimeout: 4010,
  Redirect: 4300,
  UnsupportedVersion: 4400,
} as const;

/** Close codes after which the SDK stops reconnecting (unless the `isFatal` hook says otherwise). */
export const FATAL_CLOSE_CODES: readonly number[] = [CloseCode.Policy, CloseCode.Unauthorized, CloseCode.Forbidden, CloseCode.UnsupportedVersion];

/** Close codes after which the first retry comes at once (within `firstRetryMaxMs`). */
export const QUICK_RETRY_CLOSE_CODES: readonly number[] = [CloseCode.Abnormal, CloseCode.ServiceRestart];

/** The WebSocket subprotocol the SDK offers. */
export const SUBPROTOCOL = 'switchyard.v1';
/** The protocol version sent in `hello`. */
export const PROTOCOL_VERSION = 1;
