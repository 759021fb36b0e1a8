/** WebSocket close codes of the Switchyard protocol v1 (see docs/protocol.md). */
export const CloseCode = {
  /** Closed by the application or the client. */
  Normal: 1000,
  /** Server shutting down with no other node to suggest. */
  GoingAway: 1001,
  /** No close frame: the connection dropped (node killed, network gone). Never sent, only seen. */
  Abnormal: 1006,
  /** Origin not allowed. */
  Policy: 1008,
  /** Frame above maxPayload. */
  TooLarge: 1009,
  /** Unexpected server error. */
  Internal: 1011,
  /** Node draining or rebalancing; the reason may hold a URL hint. */
  ServiceRestart: 1012,
  /** Repeated malformed frames. */
  BadFrame: 4000,
  /** Authentication failed. */
  Unauthorized: 4001,
  /** Not allowed. */
  Forbidden: 4003,
  /** Message rate limit exceeded repeatedly. */
  RateLimited: 4008,
  /** Send queue overflowed. */
  SlowConsumer: 4009,
  /** No pong or no hello in time. */
  HeartbeatTimeout: 4010,
  /** The node lost contact with the cluster (registry or bus) and fenced itself: reconnect elsewhere at once and resume. */
  Fenced: 4011,
  /** The client belongs on another node; the reason is its URL. */
  Redirect: 4300,
  /** hello.v not supported. */
  UnsupportedVersion: 4400,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Close codes after which the SDK stops reconnecting (unless the `isFatal` hook says otherwise). */
export const FATAL_CLOSE_CODES: readonly number[] = [CloseCode.Policy, CloseCode.Unauthorized, CloseCode.Forbidden, CloseCode.UnsupportedVersion];

/** Close codes after which the first retry comes at once (within `firstRetryMaxMs`). */
export const QUICK_RETRY_CLOSE_CODES: readonly number[] = [CloseCode.Abnormal, CloseCode.ServiceRestart, CloseCode.Fenced];

/** The WebSocket subprotocol the SDK offers. */
export const SUBPROTOCOL = 'switchyard.v1';
/** The protocol version sent in `hello`. */
export const PROTOCOL_VERSION = 1;
