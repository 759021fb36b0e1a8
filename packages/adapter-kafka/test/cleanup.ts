import { unique } from '@switchyard/core/testing';
import { Kafka, logLevel } from 'kafkajs';

/** A topic prefix no other test file uses. */
export const testPrefix = (name: string): string => `${unique(`sytest-${name}`).replace(/[^A-Za-z0-9-]/g, '-')}.`;

/** Delete every topic under `prefix`. */
export async function deleteTopics(brokers: string[], prefix: string): Promise<void> {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (mine.length) await admin.deleteTopics({ topics: mine });
  } finally {
    await admin.disconnect();
  }
}
