import type { Logger } from '@switchyard/core';

/** What `closeOnSignals` needs from a node. */
export interface Closable {
  readonly logger: Logger;
  readonly options: { drain: { graceMs: number } };
  close(options: { graceMs?: number }): Promise<void>;
}

export interface SignalOptions {
  /** Time for clients to move and sends to finish, ms (default: the node's `drain.graceMs`). Keep it below the orchestrator's own grace (Kubernetes: 30 s). */
  graceMs?: number;
  /** Signals to handle (default SIGTERM and SIGINT). */
  signals?: NodeJS.Signals[];
  /** Runs after the node closed (close your own pools here). */
  onClose?: (signal: NodeJS.Signals) => void | Promise<void>;
  /** Exit the process when done: code 0, or 1 if closing failed; a second signal then exits at once with 1 (default false). */
  exit?: boolean;
}

export interface SignalHandle {
  /** The listener installed for the signals: closes the node (once) and resolves when done. */
  readonly handler: (signal: NodeJS.Signals) => Promise<void>;
  /** Remove the listeners without closing the node. */
  remove(): void;
}

/** Install signal listeners that close `node` gracefully; see `SwitchyardNode.closeOnSignals`. */
export function closeOnSignals(node: Closable, options: SignalOptions = {}): SignalHandle {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const graceMs = options.graceMs ?? node.options.drain.graceMs;
  let closing: Promise<void> | undefined;
  const listener = (signal: NodeJS.Signals): void => void handler(signal);
  const remove = (): void => {
    for (const s of signals) process.off(s, listener);
  };
  const handler = (signal: NodeJS.Signals): Promise<void> => {
    if (closing) {
      node.logger.warn({ signal }, options.exit ? 'second signal while closing: exiting now' : 'second signal while closing: already closing');
      if (options.exit) process.exit(1);
      return closing;
    }
    node.logger.info({ signal, graceMs }, 'signal received: closing gracefully');
    closing = (async () => {
      let failed = false;
      try {
        await node.close({ graceMs });
        await options.onClose?.(signal);
      } catch (err) {
        failed = true;
        node.logger.error({ err, signal }, 'closing on signal failed');
      }
      remove();
      if (options.exit) process.exit(failed ? 1 : 0);
    })();
    return closing;
  };
  for (const s of signals) process.on(s, listener);
  return { handler, remove };
}
