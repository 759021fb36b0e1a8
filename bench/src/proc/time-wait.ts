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

/**
 * Connections the kernel dropped because a listening socket's accept queue was full (Linux
 * `TcpExt ListenOverflows` in `/proc/net/netstat`, for the whole machine); NaN where it cannot
 * tell. Each drop costs the connecting client its TCP retry, 1 s later: a run with drops has
 * connect and failover tails a second longer.
 */
export async function listenOverflows(): Promise<number> {
  try {
    const lines = (await readFile('/proc/net/netstat', 'utf8')).split('\n').filter((l) => l.startsWith('TcpExt:'));
    const names = lines[0]?.split(/\s+/) ?? [];
    const values = lines[1]?.split(/\s+/) ?? [];
    const i = names.indexOf('ListenOverflows');
    return i > 0 && values[i] !== undefined ? Number(values[i]) : NaN;
  } catch {
    return NaN;
  }
}
