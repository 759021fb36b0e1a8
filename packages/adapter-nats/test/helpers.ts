import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { randomId } from '@switchyard/core/adapter';

/** A short id unique to one test file run, safe in subjects, stream and bucket names. */
export const runId = (): string => randomId(4).replace(/[^A-Za-z0-9]/g, 'x');

/** Delete the streams and KV buckets a test file created (KV buckets are streams named `KV_<bucket>`). */
export async function dropStreams(url: string, streams: string[], buckets: string[] = []): Promise<void> {
  const nc: NatsConnection = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    for (const name of [...streams, ...buckets.map((b) => `KV_${b}`)]) {
      await jsm.streams.delete(name).catch(() => undefined);
    }
  } finally {
    await nc.close();
  }
}
