/**
 * The WebSocket close codes of protocol v1: one table for the node (which sends them) and the
 * SDK (which acts on them). docs/protocol.md#close-codes has the same table in words; a test
 * (test/asyncapi.test.ts) holds docs/asyncapi.yaml to it. No dependencies: the SDK imports it.
 */
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

// What a client does after each code. Every other code: reconnect with backoff and resume.

/** Close codes after which the SDK stops reconnecting (unless the `isFatal` hook says otherwise). */
export const FATAL_CLOSE_CODES: readonly number[] = [CloseCode.Policy, CloseCode.Unauthorized, CloseCode.Forbidden, CloseCode.UnsupportedVersion];

/** Close codes after which the first retry comes at once (within `firstRetryMaxMs`). */
export const QUICK_RETRY_CLOSE_CODES: readonly number[] = [CloseCode.Abnormal, CloseCode.ServiceRestart, CloseCode.Fenced];

/** The protocol name of each code (`ServiceRestart` -> `service_restart`), for logs and metric labels; `other` for a code not in the table. */
export const closeCodeName = (code: number): string => {
  for (const [name, value] of Object.entries(CloseCode)) if (value === code) return name.replace(/[A-Z]/g, (c, i: number) => (i ? '_' : '') + c.toLowerCase());
  return 'other';
};

/** The longest close reason RFC 6455 allows, in UTF-8 bytes. */
export const MAX_CLOSE_REASON_BYTES = 123;

/** `reason` when it fits a close frame (123 UTF-8 bytes), else the empty string. */
export const fitReason = (reason: string): string => (new TextEncoder().encode(reason).length <= MAX_CLOSE_REASON_BYTES ? reason : '');
