import { readFile } from 'node:fs/promises';

/** Sockets in TIME_WAIT on this machine (Linux `/proc/net/sockstat`); NaN where it cannot tell. */
export async function timeWaitSockets(): Promise<number> {
  try {
    const m = /^TCP:.*\btw (\d+)/m.exec(await readFile('/proc/net/sockstat', 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Wait until the machine's TIME_WAIT sockets plus the `clients` a run is about to open stay under
 * `limit`, for at most `maxMs` (TIME_WAIT lasts 60 s on Linux). Every closed loopback
 * connection of a run leaves one behind; with some 15,000 of them, connecting (bind to a source
 * address, then connect) cost the client processes measurably more, so a system run right after
 * a connect-heavy one connected up to 40 % slower than the same system run first. Waiting puts
 * every run on the same footing. Returns how long it waited and what was left.
 */
export async function settleTimeWait(clients: number, limit = 12_000, maxMs = 65_000): Promise<{ waitedMs: number; left: number }> {
  const t0 = Date.now();
  let left = await timeWaitSockets();
  while (Number.isFinite(left) && left + clients > limit && Date.now() - t0 < maxMs) {
    await new Promise((r) => setTimeout(r, 1000));
    left = await timeWaitSockets();
  }
  return { waitedMs: Date.now() - t0, left };
}
