import { afterEach, describe, expect, it } from 'vitest';
import type { SwitchyardNode } from '../src/index.js';
import { metric, startNodes, TestClient, type Frame } from './helpers.js';

const nodes: SwitchyardNode[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
});

describe('history rooms', () => {
  it('resume on another node replays what was missed, in order, after the welcome; a join with an offset does too', async () => {
    nodes.push(...(await startNodes(['a', 'b', 'c'], { rooms: { history: (room: string) => room.startsWith('h-') } })));
    const [a, b, c] = nodes as [SwitchyardNode, SwitchyardNode, SwitchyardNode];
    const first = await TestClient.connect(a.url, { noRedirect: true, rooms: { 'h-chat': {}, plain: {} } });
    const room = (first.welcome.rooms as Record<string, Frame>)['h-chat'] as Frame;
    expect(room).toMatchObject({ history: true, recovered: false, gap: false });
    expect((first.welcome.rooms as Record<string, Frame>).plain).toMatchObject({ history: false, offset: 0 });
    const r1 = await b.to('h-chat').send('m', 1);
    expect(r1.offset).toBe(Number(room.offset) + 1);
    const seen = await first.client.waitFrame((f) => f.t === 'msg' && f.data === 1);
    expect(seen).toMatchObject({ room: 'h-chat', o: r1.offset, e: r1.epoch });
    await first.client.close();

    for (const n of [2, 3, 4]) await b.to('h-chat').send('m', n);
    await b.to('plain').send('m', 'lost'); // no history: gone
    const back = await TestClient.connect(c.url, { noRedirect: true, session: first.welcome.session, rooms: { 'h-chat': { offset: seen.o, epoch: seen.e } } });
    clients.push(back.client);
    expect(back.welcome).toMatchObject({ resumed: true, node: 'c', rooms: { 'h-chat': { recovered: true, gap: false, offset: Number(seen.o) + 3 } } });
    await back.client.waitMsgs(3);
    const welcomeAt = back.client.frames.findIndex((f) => f.t === 'welcome');
    const firstMsgAt = back.client.frames.findIndex((f) => f.t === 'msg' || f.t === 'batch');
    expect(welcomeAt).toBeLessThan(firstMsgAt);
    expect(back.client.msgs.map((m) => m.data)).toEqual([2, 3, 4]);
    expect(back.client.msgs.map((m) => m.o)).toEqual([Number(seen.o) + 1, Number(seen.o) + 2, Number(seen.o) + 3]);

    // a resume without rooms in hello uses the rooms and offsets stored with the session
    await back.client.close();
    await a.to('h-chat').send('m', 5);
    const stored = await TestClient.connect(b.url, { noRedirect: true, session: first.welcome.session });
    clients.push(stored.client);
    expect(stored.welcome).toMatchObject({ resumed: true, rooms: { 'h-chat': { recovered: true } } });
    await stored.client.waitMsgs(1);
    expect(stored.client.msgs.map((m) => m.data)).toEqual([5]);

    // join with an offset
    const other = await TestClient.connect(a.url, { noRedirect: true });
    clients.push(other.client);
    const ack = await other.client.request({ t: 'join', room: 'h-chat', offset: Number(seen.o) + 2, epoch: seen.e });
    expect(ack).toMatchObject({ ok: true, result: { room: 'h-chat', recovered: true, gap: false } });
    await other.client.waitMsgs(2);
    expect(other.client.msgs.map((m) => m.data)).toEqual([4, 5]);
    expect(other.client.frames.findIndex((f) => f.t === 'ack')).toBeLessThan(other.client.frames.findIndex((f) => f.t === 'msg' || f.t === 'batch'));

    // a wrong epoch reports a gap and replays the whole current stream
    const stale = await TestClient.connect(a.url, { noRedirect: true, rooms: { 'h-chat': { offset: 2, epoch: 'gone' } } });
    clients.push(stale.client);
    expect(stale.welcome).toMatchObject({ rooms: { 'h-chat': { recovered: false, gap: true } } });

    // client publish to a history room acks with the offset
    const pub = await other.client.request({ t: 'pub', room: 'h-chat', data: 6 });
    expect(pub).toMatchObject({ ok: true, result: { offset: Number(seen.o) + 5, epoch: seen.e } });
  });

  it('reads again a replay that comes back short of what the node already delivered (a store whose reads trail its appends): no false gap', async () => {
    nodes.push(...(await startNodes(['a'], { rooms: { history: true } })));
    const a = nodes[0] as SwitchyardNode;
    const live = await TestClient.connect(a.url, { rooms: { 'h-lag': {} } });
    clients.push(live.client);
    const epoch = String(((live.welcome.rooms as Record<string, Frame>)['h-lag'] as Frame).epoch);
    const sent = [];
    for (const n of [1, 2, 3]) sent.push(await a.to('h-lag').send('m', n));
    await live.client.waitMsgs(3); // the node has delivered the room up to the third message
    // the store's next two reads leave out the newest entry, as a lagging log would
    const history = a.cluster.history as NonNullable<typeof a.cluster.history>;
    const read = history.read.bind(history);
    let lagging = 2;
    history.read = async (...args: Parameters<typeof read>) => {
      const r = await read(...args);
      if (lagging-- <= 0 || r.entries.length === 0) return r;
      return { ...r, entries: r.entries.slice(0, -1), top: r.top - 1 };
    };
    const first = sent[0] as { offset: number };
    const back = await TestClient.connect(a.url, { rooms: { 'h-lag': { offset: first.offset, epoch } } });
    clients.push(back.client);
    expect(back.welcome).toMatchObject({ rooms: { 'h-lag': { recovered: true, gap: false, offset: first.offset + 2 } } });
    await back.client.waitMsgs(2);
    await a.to('h-lag').send('m', 4);
    await back.client.waitMsgs(3);
    expect(back.client.msgs.map((m) => m.data)).toEqual([2, 3, 4]);
    expect(back.client.frames.some((f) => f.t === 'gap')).toBe(false);
    expect(metric(await a.cluster.metricsRegistry.metrics(), 'switchyard_ws_replay_rereads_total')).toBe(2);
  });
});
