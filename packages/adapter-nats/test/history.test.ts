import { historyContract, serviceUrl } from '@switchyard/core/testing';
import { afterAll, describe } from 'vitest';
import { NatsHistory } from '../src/index.js';
import { dropStreams, runId } from './helpers.js';

const url = await serviceUrl('nats');
const id = runId();
const streams = new Set<string>();
const epochBucket = `sytest_epochs_${id}`;

describe.skipIf(!url)('nats history', () => {
  afterAll(() => dropStreams(url as string, [...streams], [epochBucket]));

  historyContract('nats', {
    // One stream per retention: JetStream limits are per stream, and two streams may not share subjects.
    create: ({ maxLength, maxAgeMs }) => {
      const stream = `SYTEST_H_${id}_${maxLength}_${maxAgeMs}`;
      streams.add(stream);
      return new NatsHistory({
        servers: url as string,
        prefix: `sytest.${id}.r${maxLength}a${maxAgeMs}`,
        history: { stream, epochBucket, maxLength, maxAgeMs },
      });
    },
  });
});
