/**
 * Error codes the client SDK raises: a subset of core's `SwitchyardErrorCode`, so an
 * application tells client and server errors apart the same way, by `code`.
 */
export type ClientErrorCode =
  | 'CONFIG_INVALID'
  | 'NOT_CONNECTED'
  | 'CLOSED'
  | 'BUFFER_FULL'
  | 'PAYLOAD_TOO_LARGE'
  | 'ENVELOPE_INVALID'
  | 'TIMEOUT'
  | 'BACKEND_ERROR';

/**
 * The SDK's error. Named `SwitchyardError` (core's `isSwitchyardError` recognises it) with
 * `source` = `client`; the SDK does not import core so that it stays dependency-free.
 * `serverCode` holds the server's code (`forbidden`, `not_in_room`, ...) for errors the
 * server sent in an `ack` or `error` frame (then `code` is `BACKEND_ERROR`), and
 * `closeCode` the WebSocket close code for fatal closes.
 */
export class SwitchyardClientError extends Error {
  override readonly name = 'SwitchyardError';
  readonly source = 'client';
  readonly code: ClientErrorCode;
  readonly serverCode: string | undefined;
  readonly closeCode: number | undefined;

  constructor(code: ClientErrorCode, message: string, extra: { serverCode?: string; closeCode?: number; cause?: unknown } = {}) {
    super(`[switchyard] [client] ${message}`, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.code = code;
    this.serverCode = extra.serverCode;
    this.closeCode = extra.closeCode;
  }
}

export const clientError = (code: ClientErrorCode, message: string, extra?: ConstructorParameters<typeof SwitchyardClientError>[2]) =>
  new SwitchyardClientError(code, message, extra);
