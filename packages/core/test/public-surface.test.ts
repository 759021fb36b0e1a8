import { describe, expect, it } from 'vitest';
import * as root from '@switchyard/core';
import * as adapter from '@switchyard/core/adapter';

/**
 * The runtime names of each entry point, spelled out so the public surface cannot grow (or
 * shrink) by accident. Adding a name here is an API decision: the root is the application
 * API, `/adapter` is for backend and transport authors.
 */
const ROOT = [
  'AdaptiveBalancer',
  'ConnectionAffinity',
  'ConsistentHashBalancer',
  'DelayedFailover',
  'GracefulFailover',
  'HashAffinity',
  'ImmediateFailover',
  'LeastConnectionsBalancer',
  'MemoryHub',
  'NoAffinity',
  'RandomBalancer',
  'RegionAffinity',
  'RoundRobinBalancer',
  'StrategyRegistry',
  'SwitchyardError',
  'Tokens',
  'UserAffinity',
  'WeightedBalancer',
  'childLogger',
  'consoleLogger',
  'createCluster',
  'createMemoryAdapter',
  'isSwitchyardError',
  'noopLogger',
  'toAll',
  'toConnection',
  'toNode',
  'toRoom',
  'toUser',
];

const ADAPTER = [
  'BusRuntime',
  'EnvelopeCodec',
  'MemoryBus',
  'MemoryHistory',
  'MemoryRegistry',
  'MemorySessionStore',
  'RoomJoins',
  'SessionOpening',
  'SessionService',
  'Topics',
  'TypedEmitter',
  'composeAdapter',
  'createBusRuntime',
  'decodeHistoryRecord',
  'describeConnectFailure',
  'encodeHistoryRecord',
  'historyStream',
  'inBatches',
  'noopObserver',
  'parseConfig',
  'planReplay',
  'prepareDelivery',
  'randomId',
  'readAfter',
  'topicFor',
  'withDeadline',
  'withoutCredentials',
];

/** Internals that must never come back to the root. */
const INTERNAL = [
  'EnvelopeCodec',
  'LoadSampler',
  'ClusterNode',
  'ClusterMetrics',
  'BusRuntime',
  'prepareDelivery',
  'envelopeSchema',
  'deliverEnvelopeSchema',
  'failoverEnvelopeSchema',
  'controlEnvelopeSchema',
  'queryEnvelopeSchema',
  'replyEnvelopeSchema',
  'addressSchema',
  'clusterConfigSchema',
  'NODE_STATES',
  'COORDINATOR_LEASE',
];

const sorted = (names: Iterable<string>) => [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

describe('public surface', () => {
  it('@switchyard/core exports exactly the application API', () => {
    expect(sorted(Object.keys(root))).toEqual(sorted(ROOT));
  });

  it('@switchyard/core/adapter exports exactly what backend and transport authors need', () => {
    expect(sorted(Object.keys(adapter))).toEqual(sorted(ADAPTER));
  });

  it('keeps internals (the envelope schemas, the codec, the load sampler, the node class) off the root', () => {
    const exported = new Set(Object.keys(root));
    expect(INTERNAL.filter((name) => exported.has(name))).toEqual([]);
  });

  it('has no name in both entries: each thing is imported from one place', () => {
    const both = Object.keys(adapter).filter((name) => name in root);
    expect(both).toEqual([]);
  });
});
