import { bytes, Closer, CountingObserver, rejectsWithCode, serviceUrl, TcpProxy, text, unique, waitFor } from '@switchyard/core/testing';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Names, PostgresBus, type PostgresOptions } from '../src/index.js';
import { dropSchema, randomSchema, sql } from './helpers.js';

const url = await serviceUrl('postgres');
const schema = randomSchema('bus');

describe.skipIf(!url)('PostgresBus over LISTEN/NOTIFY', () => {
  const closer = new Closer();
  afterEach(() => closer.closeAll());
  afterAll(() => dropSchema(url as string, schema));

  const open = async (extra: Partial<PostgresOptions> = {}, observer?: CountingObserver) => {
    const bus = closer.add(new PostgresBus({ connectionString: url, schema, ...extra }));
    if (observer) bus.instrument(observer);
    await bus.connect();
    return bus;
  };

  it('carries a payload above the 8000-byte NOTIFY limit intact, through the overflow table', async () => {
    const [a, b] = [await open(), await open()];
    const topic = unique('room.large');
    const got: Uint8Array[] = [];
    await b.subscribe(topic, (p) => got.push(p));
    const sizes = [8001, 100_000, 1024 * 1024];
    const payloads = sizes.map((n) => new Uint8Array(randomBytes(n)));
    for (const p of payloads) await a.publish(topic, p);
    await waitFor(() => got.length === payloads.length, 10_000);
    got.forEach((p, i) => expect(Buffer.from(p).equals(Buffer.from(payloads[i] as Uint8Array))).toBe(true));
    const rows = await sql<{ n: number }>(url as string, `SELECT count(*)::int AS n FROM "${schema}"."sy_bus_payloads" WHERE topic = $1`, [topic]);
    expect(rows[0]?.n).toBe(3);
  });

  it('keeps order when small and large payloads alternate', async () => {
    const [a, b] = [await open(), await open()];
    const topic = unique('room.mixed');
    const got: string[] = [];
    await b.subscribe(topic, (p) => got.push(text(p).slice(0, 5)));
    const sent: string[] = [];
    const all: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      const tag = `m${String(i).padStart(4, '0')}`;
      sent.push(tag);
      all.push(a.publish(topic, bytes(i % 3 === 0 ? tag + 'x'.repeat(9000) : tag)));
    }
    await Promise.all(all);
    await waitFor(() => got.length === 40, 10_000);
    expect(got).toEqual(sent);
  });

  it('delivers equal payloads published back to back (batched NOTIFYs are not folded)', async () => {
    const [a, b] = [await open(), await open()];
    const topic = unique('room.same');
    let n = 0;
    await b.subscribe(topic, () => n++);
    await Promise.all(Array.from({ length: 300 }, () => a.publish(topic, bytes('same'))));
    await waitFor(() => n === 300, 10_000);
    expect(n).toBe(300);
  });

  // Rows are aged by moving their created_at back (the database clock stays the judge), not by
  // waiting: a short retention raced the first count on a loaded machine (swept before it looked).
  it('sweeps overflow rows after their retention, and keeps younger ones', async () => {
    const a = await open({ sweepIntervalMs: 50, bus: { overflowRetentionMs: 60_000 } });
    const [old, young] = [unique('room.sweep-old'), unique('room.sweep-young')];
    await a.publish(old, new Uint8Array(20_000));
    await a.publish(young, new Uint8Array(20_000));
    const count = async (topic: string) =>
      (await sql<{ n: number }>(url as string, `SELECT count(*)::int AS n FROM "${schema}"."sy_bus_payloads" WHERE topic = $1`, [topic]))[0]?.n;
    expect(await count(old)).toBe(1);
    expect(await count(young)).toBe(1);
    await sql(url as string, `UPDATE "${schema}"."sy_bus_payloads" SET created_at = now() - interval '61 seconds' WHERE topic = $1`, [old]);
    await waitFor(async () => (await count(old)) === 0, 10_000, 50);
    // The sweep that took the old row saw the young one too, and left it.
    expect(await count(young)).toBe(1);
  });

  it('ignores notifications whose topic does not match, and counts malformed ones', async () => {
    const obs = new CountingObserver();
    const b = await open({}, obs);
    const topic = unique('room.forge');
    const got: string[] = [];
    await b.subscribe(topic, (p) => got.push(text(p)));
    const channel = new Names(schema, 'sy_').channel('b', topic);
    const forged = JSON.stringify({ t: 'room.someone-else', d: Buffer.from('forged').toString('base64') });
    await sql(url as string, 'SELECT pg_notify($1, $2)', [channel, forged]);
    await sql(url as string, 'SELECT pg_notify($1, $2)', [channel, 'not json']);
    await sql(url as string, 'SELECT pg_notify($1, $2)', [channel, JSON.stringify({ t: topic, d: Buffer.from('real').toString('base64') })]);
    await waitFor(() => got.length === 1, 5000);
    expect(got).toEqual(['real']);
    expect(obs.get('malformed')).toBe(1);
  });

  // The connection is cut by a proxy that refuses new connections until the test lets them through,
  // so the buffered publishes cannot race the reconnect timer on a slow machine.
  it('comes back after its connection is lost: re-LISTENs, flushes the buffer, refuses past the bound', async () => {
    const server = new URL(url as string);
    const proxy = await TcpProxy.start({ target: { host: server.hostname, port: Number(server.port || 5432) } });
    closer.defer(() => proxy.close());
    const viaProxy = new URL(server.href);
    viaProxy.hostname = proxy.host;
    viaProxy.port = String(proxy.port);
    const obs = new CountingObserver();
    const b = await open({ connectionString: viaProxy.href, publishBufferSize: 3, bus: { reconnectMinDelayMs: 50, reconnectMaxDelayMs: 200 } }, obs);
    const a = await open();
    const topic = unique('room.kill');
    const got: string[] = [];
    await b.subscribe(topic, (p) => got.push(text(p)));
    await b.subscribe(unique('room.other'), () => undefined);
    const statuses: string[] = [];
    b.onStatus((s) => statuses.push(s));
    proxy.reset(); // this bus's connections are reset, and new ones refused until pass()
    await waitFor(() => b.status === 'reconnecting', 5000);
    for (let i = 0; i < 3; i++) await b.publish(topic, bytes(`buffered-${i}`));
    await rejectsWithCode(b.publish(topic, bytes('one too many')), 'BUFFER_FULL');
    expect(obs.get('publish_buffered')).toBe(3);
    expect(obs.get('publish_dropped')).toBe(1);
    expect(b.status).toBe('reconnecting');
    proxy.pass();
    await waitFor(() => b.status === 'connected', 10_000);
    await a.publish(topic, bytes('from-a'));
    await waitFor(() => got.length === 4, 5000);
    // Order holds per publisher; a's message may land between b's flushed ones.
    expect(got.filter((m) => m.startsWith('buffered'))).toEqual(['buffered-0', 'buffered-1', 'buffered-2']);
    expect(got).toContain('from-a');
    expect(statuses).toEqual(['reconnecting', 'connected']);
    expect(obs.get('publish_flushed')).toBe(3);
    expect(obs.get('resubscribe')).toBe(2);
    expect(obs.get('reconnect')).toBe(1);
    expect(obs.get('disconnect')).toBe(1);
  });
});
