import { readFile } from 'node:fs/promises';

/**
 * The listen backlog of a server the node creates, when `limits.listenBacklog` is not given.
 * Node's own default is 511: a surviving node that is busy for a few tens of milliseconds while
 * a dead node's clients reconnect (1,000 of them within 100 ms in the bench) overflows it, and
 * every connection the kernel drops waits for its TCP retry, 1 s later.
 */
export const DEFAULT_LISTEN_BACKLOG = 4096;

/** The kernel's cap on a listen backlog (Linux `net.core.somaxconn`); undefined where it cannot tell. */
export async function backlogCap(read: () => Promise<string> = () => readFile('/proc/sys/net/core/somaxconn', 'utf8')): Promise<number | undefined> {
  try {
    const n = Number.parseInt((await read()).trim(), 10);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** What to tell the operator when the kernel holds fewer pending connections than asked for (undefined: nothing to say). */
export function backlogWarning(requested: number, cap: number | undefined): string | undefined {
  if (cap === undefined || cap >= requested) return undefined;
  return `listen backlog ${requested} is capped at ${cap} by net.core.somaxconn: when more clients than that reconnect at once (a failover), the kernel drops the rest and each waits 1 s for its TCP retry; raise it (sysctl -w net.core.somaxconn=${requested}) or lower limits.listenBacklog to say you accept it`;
}
