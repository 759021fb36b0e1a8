import { afterEach, describe, expect, it } from 'vitest';
import { EnvelopeCodec, MemoryBus, Topics } from '../src/adapter.js';
import { MemoryHub, createCluster, type ClusterNode, type DeliverEnvelope } from '../src/index.js';
import { PROTOCOL_VERSION } from '../src/model/envelope.js';
import { waitFor } from '../src/testing/index.js';

const KEY = 'a-very-secret-cluster-key';
const enc = new TextEncoder();

describe('envelope codec', () => {
  const codec = new EnvelopeCodec({ nodeId: 'n1', capabilities: ['batch'] });
  const deliver = () => codec.build<DeliverEnvelope>({ type: 'deliver', to: { kind: 'room', room: 'r' }, data: { hello: 'world' } });

  it('round-trips with version, sender and capabilities', () => {
    const e = deliver();
    const back = codec.decode(codec.encode(e, 'room.r'), 'room.r');
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    expect(back.envelope).toEqual({ ...e, run: codec.run, seq: expect.any(Number), prevSeq: expect.any(Number) });
    expect(back.envelope.v).toBe(PROTOCOL_VERSION);
    expect(back.envelope.caps).toEqual(expect.arrayContaining(['history', 'batch']));
  });

  it('refuses what it cannot read: newer version, unknown type, garbage', () => {
    const json = JSON.stringify({ ...deliver(), v: PROTOCOL_VERSION + 1 });
    expect(codec.decode(enc.encode(`SY${PROTOCOL_VERSION + 1}.-.${json}`), 'room.r')).toMatchObject({ ok: false, reason: 'version' });
    const unknown = JSON.stringify({ ...deliver(), type: 'teleport' });
    expect(codec.decode(enc.encode(`SY1.-.${unknown}`), 'room.r')).toMatchObject({ ok: false, reason: 'unknown_type' });
    expect(codec.decode(enc.encode('hello'), 'room.r')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(codec.decode(enc.encode('SY1.-.{not json'), 'room.r')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(codec.decode(new Uint8Array([0x53, 0x59, 0xff, 0xfe]), 'room.r')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(codec.decode(enc.encode('SY1.-.{"type":"deliver"}'), 'room.r')).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('with a cluster key: signs, and refuses unsigned, forged and tampered envelopes', () => {
    const a = new EnvelopeCodec({ nodeId: 'a', clusterKey: KEY });
    const b = new EnvelopeCodec({ nodeId: 'b', clusterKey: KEY });
    const e = a.build<DeliverEnvelope>({ type: 'deliver', to: { kind: 'all' }, data: 1 });
    expect(b.decode(a.encode(e, 'all'), 'all').ok).toBe(true);
    expect(b.decode(codec.encode(e, 'all'), 'all')).toMatchObject({ ok: false, reason: 'unsigned' });
    const other = new EnvelopeCodec({ nodeId: 'x', clusterKey: 'another-key-of-16-chars' });
    expect(b.decode(other.encode(e, 'all'), 'all')).toMatchObject({ ok: false, reason: 'forged' });
    const tampered = new TextDecoder().decode(a.encode(e, 'all')).replace('"data":1', '"data":2');
    expect(b.decode(enc.encode(tampered), 'all')).toMatchObject({ ok: false, reason: 'forged' });
    // the signature covers the topic: a signed envelope copied onto another topic is forged
    expect(b.decode(a.encode(e, 'room.lobby'), 'room.admins')).toMatchObject({ ok: false, reason: 'forged' });
  });

  it('tells its own echoes from the bytes, without decoding: the sender comes first', () => {
    const a = new EnvelopeCodec({ nodeId: 'node-a', clusterKey: KEY });
    const ab = new EnvelopeCodec({ nodeId: 'node-ab', clusterKey: KEY });
    const plain = new EnvelopeCodec({ nodeId: 'node-a' });
    const mine = a.encode(a.build<DeliverEnvelope>({ type: 'deliver', to: { kind: 'all' }, data: { from: 'x' } }), 'all');
    expect(new TextDecoder().decode(mine)).toMatch(/^SY1\.[A-Za-z0-9_-]+\.\{"from":"node-a",/);
    expect(a.isOwn(mine)).toBe(true);
    expect(plain.isOwn(plain.encode(plain.build<DeliverEnvelope>({ type: 'deliver', to: { kind: 'all' }, data: 1 }), 'all'))).toBe(true);
    expect(ab.isOwn(mine)).toBe(false); // a longer id with the same beginning is someone else
    expect(a.isOwn(ab.encode(ab.build<DeliverEnvelope>({ type: 'deliver', to: { kind: 'all' }, data: 1 }), 'all'))).toBe(false);
    expect(a.isOwn(enc.encode('garbage'))).toBe(false);
    expect(a.isOwn(enc.encode('SY1.-.'))).toBe(false);
  });

  it('numbers envelopes per run, and links each to the previous one on the same topic', () => {
    const a = new EnvelopeCodec({ nodeId: 'a', maxTopics: 2 });
    const read = (bytes: Uint8Array, topic: string) => {
      const r = a.decode(bytes, topic);
      if (!r.ok) throw new Error(r.reason);
      return { run: r.envelope.run, seq: r.envelope.seq, prevSeq: r.envelope.prevSeq };
    };
    const e = deliver();
    expect(read(a.encode(e, 't1'), 't1')).toEqual({ run: a.run, seq: 1, prevSeq: 0 });
    expect(read(a.encode(e, 't2'), 't2')).toEqual({ run: a.run, seq: 2, prevSeq: 0 });
    expect(read(a.encode(e, 't1'), 't1')).toEqual({ run: a.run, seq: 3, prevSeq: 1 });
    expect(read(a.encode(e, 't3'), 't3')).toEqual({ run: a.run, seq: 4, prevSeq: 0 });
    // at most two topics remembered: t2 (least recently used) was forgotten, so its link is unknown (0)
    expect(read(a.encode(e, 't2'), 't2')).toEqual({ run: a.run, seq: 5, prevSeq: 0 });
    expect(new EnvelopeCodec({ nodeId: 'a' }).run).not.toBe(a.run);
  });
});

describe('cluster nodes drop and count envelopes they cannot trust or read', () => {
  const nodes: ClusterNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
  });

  it('a signed cluster accepts its own, drops forged, unsigned and future-version envelopes, and counts each', async () => {
    const hub = new MemoryHub();
    const mk = (id: string) => createCluster({ hub, nodeId: id, clusterKey: KEY, heartbeatIntervalMs: 50, nodeTimeoutMs: 300 });
    const [a, b] = [mk('a'), mk('b')];
    nodes.push(a, b);
    await Promise.all([a.start(), b.start()]);
    const got: unknown[] = [];
    b.on('deliver', (e) => got.push(e.data));
    await b.acquire(Topics.room('r'));
    await a.publish({ kind: 'room', room: 'r' }, 'genuine');
    await waitFor(() => got.length === 1);

    const attacker = new MemoryBus({ hub });
    await attacker.connect();
    const forger = new EnvelopeCodec({ nodeId: 'evil', clusterKey: 'not-the-cluster-key!' });
    const unsigned = new EnvelopeCodec({ nodeId: 'evil' });
    const future = new TextEncoder().encode(`SY${PROTOCOL_VERSION + 1}.-.{}`);
    const env = (c: EnvelopeCodec) => c.encode(c.build<DeliverEnvelope>({ type: 'deliver', to: { kind: 'room', room: 'r' }, data: 'evil' }), Topics.room('r'));
    await attacker.publish(Topics.room('r'), env(forger));
    await attacker.publish(Topics.room('r'), env(unsigned));
    await attacker.publish(Topics.room('r'), future);
    await attacker.publish(Topics.room('r'), new TextEncoder().encode('garbage'));
    await a.publish({ kind: 'room', room: 'r' }, 'genuine-2');
    await waitFor(() => got.length === 2);
    await attacker.close();
    expect(got).toEqual(['genuine', 'genuine-2']);
    const text = await b.metricsRegistry.metrics();
    expect(text).toContain('switchyard_envelopes_dropped_total{reason="forged",node="b"} 1');
    expect(text).toContain('switchyard_envelopes_dropped_total{reason="unsigned",node="b"} 1');
    expect(text).toContain('switchyard_envelopes_dropped_total{reason="version",node="b"} 1');
    expect(text).toContain('switchyard_envelopes_dropped_total{reason="malformed",node="b"} 1');
  });
});
