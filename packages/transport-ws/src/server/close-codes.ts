/** WebSocket close codes of the Switchyard protocol v1 (see docs/protocol.md). */
export const CloseCode = {
  /** Closed by the application or the client. */
  Normal: 1000,
  /** Server shutting down with no other node to suggest. */
  GoingAway: 1001,
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
  /** The client belongs on another node; the reason is its URL. */
  Redirect: 4300,
  /** hello.v not supported. */
  UnsupportedVersion: 4400,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** The protocol name of each code, for logs and metric labels. */
export const closeCodeName = (code: number): string => {
  for (const [name, value] of Object.entries(CloseCode)) if (value === code) return name.replace(/[A-Z]/g, (c, i: number) => (i ? '_' : '') + c.toLowerCase());
  return code === 1006 ? 'abnormal' : 'other';
};

/** Close reasons are limited to 123 bytes by RFC 6455. */
export const fitReason = (reason: string): string => (Buffer.byteLength(reason) <= 123 ? reason : '');
