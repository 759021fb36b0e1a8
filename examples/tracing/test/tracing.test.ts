/**
 * What the tracing README says: the program prints the spans of one trace across two nodes: the
 * application's span, the publish (PRODUCER) on the sending node as its child, and the delivery
 * (CONSUMER) on the client's node as the publish span's child.
 */
import { describe, expect, it } from 'vitest';
import { Program } from '../../test/helpers.js';

interface Line {
  name: string;
  kind: string;
  trace: string;
  span: string;
  parent: string;
  node: string;
}

describe('examples/tracing', () => {
  it('prints one trace: announce -> switchyard publish room on one node -> switchyard deliver room on the other', async () => {
    const p = new Program('examples/tracing/main.ts');
    expect(await p.wait(), p.output).toBe(0);
    const lines: Line[] = [...p.output.matchAll(/^span (.+) kind=(\w+) trace=(\w+) span=(\w+) parent=(\S+) node=(\S+)$/gm)].map((m) => ({
      name: m[1] as string,
      kind: m[2] as string,
      trace: m[3] as string,
      span: m[4] as string,
      parent: m[5] as string,
      node: m[6] as string,
    }));
    const byName = (name: string) => lines.find((l) => l.name === name);
    const announce = byName('announce');
    const publish = byName('switchyard publish room');
    const deliver = byName('switchyard deliver room');
    if (!announce || !publish || !deliver) throw new Error(`missing spans in:\n${p.output}`);
    expect(new Set([announce.trace, publish.trace, deliver.trace]).size).toBe(1);
    expect(announce.parent).toBe('-');
    expect([publish.kind, publish.parent]).toEqual(['PRODUCER', announce.span]);
    expect([deliver.kind, deliver.parent]).toEqual(['CONSUMER', publish.span]);
    expect(publish.node).toMatch(/^node-[ab]$/);
    expect(deliver.node).toMatch(/^node-[ab]$/);
    expect(deliver.node).not.toBe(publish.node);
    expect(p.output).toMatch(new RegExp(`trace ${announce.trace}\\n  announce \\(INTERNAL\\) on the application\\n    switchyard publish room \\(PRODUCER\\) on ${publish.node}\\n      switchyard deliver room \\(CONSUMER\\) on ${deliver.node}\\n`));
  });
});
