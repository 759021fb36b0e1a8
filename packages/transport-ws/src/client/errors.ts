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
 * `serverCode` holds the server's code (`forbidden`, `not_in_room`, `refused`, ...) and
 * `serverMessage` its message for errors the server sent in an `ack` or `error` frame (then
 * `code` is `BACKEND_ERROR`; with `refused`, the message is the application's own words), and
 * `closeCode` the WebSocket close code for fatal closes.
 */
export class SwitchyardClientError extends Error {
  override readonly name = 'SwitchyardError';
  readonly source = 'client';
  readonly code: ClientErrorCode;
  readonly serverCode: string | undefined;
  readonly serverMessage: string | undefined;
  readonly closeCode: number | undefined;

  constructor(code: ClientErrorCode, message: string, extra: { serverCode?: string; serverMessage?: string; closeCode?: number; cause?: unknown } = {}) {
    super(`[switchyard] [client] ${message}`, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.code = code;
    this.serverCode = extra.serverCode;
    this.serverMessage = extra.serverMessage;
    this.closeCode = extra.closeCode;
  }
}

export const clientError = (code: ClientErrorCode, message: string, extra?: ConstructorParameters<typeof SwitchyardClientError>[2]) =>
  new SwitchyardClientError(code, message, extra);
