import { jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { names } from '../node/ports.js';

/** Remove every key under `prefix` (bounded SCAN + UNLINK). */
export async function cleanRedis(url: string, prefix: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000 });
  try {
    await r.connect();
    let cursor = '0';
    for (let i = 0; i < 10_000; i++) {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await r.unlink(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    r.disconnect();
  }
}

/** Delete the run's history stream and KV buckets (a bucket is the stream `KV_<bucket>`). */
export async function cleanNats(url: string, tag: string): Promise<void> {
  const n = names(tag);
  const nc = await natsConnect({ servers: url, timeout: 3000 });
  try {
    const jsm = await jetstreamManager(nc);
    for (const s of [n.natsStream, ...Object.values(n.natsBuckets).map((b) => `KV_${b}`)]) await jsm.streams.delete(s).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

export async function cleanPostgres(url: string, schema: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(schema)) throw new Error(`bad schema name ${schema}`);
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Delete every topic under `prefix`. */
export async function cleanKafka(brokers: string[], prefix: string): Promise<void> {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING, connectionTimeout: 3000 }).admin();
  await admin.connect();
  try {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (mine.length) await admin.deleteTopics({ topics: mine, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}
