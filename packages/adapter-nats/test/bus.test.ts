import { busContract, serviceUrl } from '@switchyard/core/testing';
import { describe } from 'vitest';
import { NatsBus } from '../src/index.js';

const url = await serviceUrl('nats');

describe.skipIf(!url)('nats bus', () => {
  busContract('nats', { create: () => new NatsBus({ servers: url as string, prefix: 'sytest.bus' }) });
});
