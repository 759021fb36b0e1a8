import { DeliveryChecker } from '@switchyard/core/testing';
import { describe, expect, it } from 'vitest';
import type { ClientTrace } from '../src/driver/clients.js';
import { aroundMissing } from '../src/report/table.js';

const trace = (name: string, events: ClientTrace['events']): ClientTrace => ({
  name,
  role: 'subscriber',
  home: 0,
  nodes: [],
  closeCodes: [],
  subscribed: 1,
  gapFlags: 0,
  gapEvents: 0,
  subscribedNow: true,
  connectedAt: [],
  events,
});

describe('the report of a run', () => {
  it('prints what a client saw around the first offset it missed, and nothing for a client that missed nothing', () => {
    const checker = new DeliveryChecker();
    for (const c of ['a', 'b']) checker.subscribed(c, { room: 'r', offset: 0, epoch: 'g0' });
    for (let o = 1; o <= 30; o++) checker.published({ room: 'r', id: `p:${o}`, sender: 'p', offset: o, epoch: 'g0' });
    const events: ClientTrace['events'] = [];
    for (let o = 1; o <= 30; o++) {
      if (o === 20) events.push({ at: 1000 + o, text: 'closed 1006' }, { at: 1000 + o, text: 'subscribed (resume) at 20 g0', offset: 20 });
      else events.push({ at: 1000 + o, text: `msg ${o} g0 p:${o}`, offset: o });
      checker.delivered('b', { room: 'r', id: `p:${o}`, offset: o, epoch: 'g0' });
      if (o !== 20) checker.delivered('a', { room: 'r', id: `p:${o}`, offset: o, epoch: 'g0' });
    }
    const lines = aroundMissing({ report: checker.report(), clients: [trace('a', events), trace('b', [])] });
    expect(lines[0]).toBe('  a missed 20; what it saw around it:');
    const body = lines.slice(1).map((l) => l.replace(/^ +\+\d+ ms /, ''));
    // the events up to the first one past the hole, and a few after
    expect(body).toContain('closed 1006');
    expect(body).toContain('subscribed (resume) at 20 g0');
    expect(body.at(0)).toBe('msg 2 g0 p:2');
    expect(body.at(-1)).toBe('msg 30 g0 p:30');
    expect(lines.some((l) => l.startsWith('  b '))).toBe(false);
  });
});
