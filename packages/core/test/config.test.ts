import { describe, expect, it } from 'vitest';
import { MemoryHub, createCluster, isSwitchyardError } from '../src/index.js';
import { clusterConfigSchema } from '../src/config/schema.js';
import { parseConfig } from '../src/adapter.js';

function configError(input: unknown): { message: string; issues: Array<{ path: string; message: string }> } {
  try {
    parseConfig(clusterConfigSchema, input);
  } catch (err) {
    expect(isSwitchyardError(err, 'CONFIG_INVALID')).toBe(true);
    return { message: (err as Error).message, issues: (err as { details: { issues: Array<{ path: string; message: string }> } }).details.issues };
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('cluster configuration', () => {
  it('fills defaults', () => {
    const c = parseConfig(clusterConfigSchema, {});
    expect(c.heartbeatIntervalMs).toBe(1000);
    expect(c.nodeTimeoutMs).toBe(5000);
    expect(c.balancer).toBe('least-connections');
    expect(c.scaling.minNodes).toBe(1);
    expect(c.rebalance.threshold).toBe(0.2);
  });

  it('names the field and the reason of a bad value', () => {
    expect(configError({ heartbeatIntervalMs: -5 }).message).toMatch(/heartbeatIntervalMs: .*>=10/);
    expect(configError({ nodeTimeoutMs: 100, heartbeatIntervalMs: 100 }).message).toContain('nodeTimeoutMs: must be at least twice heartbeatIntervalMs');
    expect(configError({ nodeId: 'has spaces' }).message).toContain('nodeId: letters, digits');
    expect(configError({ clusterKey: 'short' }).message).toContain('clusterKey: at least 16 characters');
    expect(configError({ scaling: { scaleUpAt: 0.2, scaleDownAt: 0.5 } }).message).toContain('scaling.scaleDownAt: scaleDownAt must be below scaleUpAt');
    expect(configError({ weight: 'heavy' }).issues[0]?.path).toBe('weight');
    expect(configError({ balancer: 42 }).issues[0]?.path).toBe('balancer');
  });

  it('createCluster refuses a bad configuration before doing anything', () => {
    expect(() => createCluster({ hub: new MemoryHub(), capacity: 0 })).toThrow(/capacity/);
  });
});

describe('unknown options', () => {
  it('are refused, naming the closest known option (nested ones too)', () => {
    expect(() => createCluster({ balancr: 'round-robin' } as never)).toThrow(/balancr: unknown option \(did you mean balancer\?\)/);
    expect(() => createCluster({ rebalance: { intervalMS: 5 } } as never)).toThrow(/rebalance\.intervalMS: unknown option \(did you mean rebalance\.intervalMs\?\)/);
    expect(() => createCluster({ adaptr: {} } as never)).toThrow(/did you mean adapter\?/);
    expect(() => createCluster({ qqqqqqq: 1 } as never)).toThrow(/qqqqqqq: unknown option \(known: nodeId, /);
  });
});
