import { busContract, historyContract, registryContract, serviceUrl, sessionContract } from '@switchyard/core/testing';
import { afterAll, describe } from 'vitest';
import { PostgresBus, PostgresHistory, PostgresRegistry, PostgresSessionStore, type PostgresOptions } from '../src/index.js';
import { dropSchema, randomSchema } from './helpers.js';

const url = await serviceUrl('postgres');
const schema = randomSchema('contract');
const base: PostgresOptions = { connectionString: url ?? 'postgres://unused', schema, sweepIntervalMs: 200 };

describe.skipIf(!url)('postgres adapters pass every core contract', () => {
  afterAll(() => dropSchema(url as string, schema));

  busContract('postgres', { create: () => new PostgresBus(base) });
  historyContract('postgres', { create: (retention) => new PostgresHistory({ ...base, history: retention }) });
  // The shortest TTL the expiry tests use. The contracts assert a record is still there between two
  // statements written within it (put then touch, set then get, heartbeats every ttl / 2): 1 s
  // leaves room for a loaded machine's stalls, where 300 ms did not.
  registryContract('postgres', { create: () => new PostgresRegistry(base), minTtlMs: 1000 });
  sessionContract('postgres', { create: () => new PostgresSessionStore(base), minTtlMs: 1000 });
});
