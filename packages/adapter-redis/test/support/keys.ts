import { Redis } from 'ioredis';

/** Delete every key under `prefix` (streams, stream hashes and lease counters have no TTL): what a test run wrote. */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const admin = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, found] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (found.length) await admin.del(...found);
    } while (cursor !== '0');
  } finally {
    await admin.quit();
  }
}
