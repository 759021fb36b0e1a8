import { serviceUrl } from '@switchyard/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresHistory } from '../src/index.js';
import { dropSchema, randomSchema } from './helpers.js';

const url = await serviceUrl('postgres');
const schema = randomSchema('horder');

/** Keep the event loop busy, as a loaded node does, so several pool sockets turn readable at once. */
const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* spin */
  }
};

describe.skipIf(!url)('history append order on a real PostgreSQL', () => {
  afterAll(async () => {
    await dropSchema(url as string, schema);
  });

  // The router publishes each message when its append resolves, and connections drop a room
  // message whose offset is not above the last one they sent: appends of one stream must
  // resolve in offset order, or messages are lost for every client under load.
  it('concurrent appends to one stream resolve in offset order, each offset once', async () => {
    const history = new PostgresHistory({ connectionString: url as string, schema, autoMigrate: true });
    await history.connect();
    try {
      const resolved: number[] = [];
      const waves = 20;
      const perWave = 25;
      for (let w = 0; w < waves; w++) {
        const wave = Array.from({ length: perWave }, (_, i) =>
          history.append('s-order', new TextEncoder().encode(`m${w}-${i}`)).then((pos) => {
            resolved.push(pos.offset);
            return pos;
          }),
        );
        busy(15);
        await Promise.all(wave);
      }
      expect(resolved).toHaveLength(waves * perWave);
      expect(new Set(resolved).size).toBe(waves * perWave);
      const outOfOrder = resolved.filter((o, i) => i > 0 && o < (resolved[i - 1] as number)).length;
      expect(outOfOrder).toBe(0);
      // Every entry is stored, in the order the appends were called.
      const read = await history.read('s-order', 0, { limit: 1000 });
      expect(read.entries.map((e) => new TextDecoder().decode(e.payload))).toEqual(
        Array.from({ length: waves * perWave }, (_, k) => `m${Math.floor(k / perWave)}-${k % perWave}`),
      );
    } finally {
      await history.close();
    }
  });
});
