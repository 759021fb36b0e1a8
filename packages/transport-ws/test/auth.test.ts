import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@switchyard/core/testing';
import { SignJWT } from 'jose';
import { jwtAuth, type SwitchyardNode } from '../src/index.js';
import { httpGet, metric, startNodes, TestClient } from './helpers.js';

const nodes: SwitchyardNode[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
});

const secret = 'a-test-secret-of-enough-length';
const sign = (sub: string, key = secret, iss = 'switchyard-test') =>
  new SignJWT({ role: 'member' }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuer(iss).setExpirationTime('5m').sign(new TextEncoder().encode(key));

describe('authentication and admission', () => {
  it('JWT (HS256): accepted in the query, the header or the hello; refused with 401 at the upgrade or 4001 at the hello', async () => {
    nodes.push(...(await startNodes(['a'], { authenticate: jwtAuth({ secret, issuer: 'switchyard-test' }) })));
    const [a] = nodes as [SwitchyardNode];
    const good = await sign('alice');
    const q = await TestClient.connect(`${a.url}?token=${good}`, {});
    clients.push(q.client);
    expect(q.welcome.user).toBe('alice');
    expect(a.connections.get(String(q.welcome.conn))?.data.claims).toMatchObject({ sub: 'alice', role: 'member' });
    const h = await TestClient.open(a.url, { headers: { authorization: `Bearer ${await sign('bob')}` } });
    clients.push(h);
    h.send({ t: 'hello', v: 1 });
    expect(await h.waitFrame((f) => f.t === 'welcome')).toMatchObject({ user: 'bob' });
    const inHello = await TestClient.connect(a.url, { token: await sign('carol') });
    clients.push(inHello.client);
    expect(inHello.welcome.user).toBe('carol');

    await expect(TestClient.open(`${a.url}?token=${await sign('mallory', 'another-secret-of-enough-length')}`)).rejects.toMatchObject({ status: 401 });
    await expect(TestClient.open(`${a.url}?token=${await sign('eve', secret, 'someone-else')}`)).rejects.toMatchObject({ status: 401 });
    for (const hello of [{ token: 'not-a-jwt' }, {}]) {
      const bad = await TestClient.open(a.url);
      clients.push(bad);
      bad.send({ t: 'hello', v: 1, ...hello });
      await waitFor(() => bad.closed);
      expect(bad.closed?.code).toBe(4001);
    }
    const text = (await httpGet(a.url, '/metrics')).text;
    expect(metric(text, 'switchyard_ws_auth_failures_total', 'stage="upgrade"')).toBe(2);
    expect(metric(text, 'switchyard_ws_auth_failures_total', 'stage="hello"')).toBe(2);
  });

  it('origin allow-list (403), per-IP connection limit (429), room-join hook', async () => {
    nodes.push(
      ...(await startNodes(['a'], { origins: ['https://app.example'], maxConnectionsPerIp: 2, authorizeJoin: (_c: unknown, room: string) => !room.startsWith('admin') })),
    );
    const [a] = nodes as [SwitchyardNode];
    await expect(TestClient.open(a.url, { headers: { origin: 'https://evil.example' } })).rejects.toMatchObject({ status: 403 });
    const one = await TestClient.connect(a.url, { rooms: { lobby: {}, 'admin-x': {} } });
    clients.push(one.client);
    expect(one.welcome.rooms).toMatchObject({ lobby: { gap: false }, 'admin-x': { error: { code: 'forbidden' } } });
    const two = await TestClient.open(a.url, { headers: { origin: 'https://app.example' } });
    clients.push(two);
    await expect(TestClient.open(a.url)).rejects.toMatchObject({ status: 429 });
    expect(await one.client.request({ t: 'join', room: 'admin' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    await two.close();
    await waitFor(() => a.ipLimiter.count('127.0.0.1') === 1);
    const three = await TestClient.open(a.url);
    clients.push(three);
    const text = (await httpGet(a.url, '/metrics')).text;
    expect(metric(text, 'switchyard_ws_upgrades_refused_total', 'reason="origin"')).toBe(1);
    expect(metric(text, 'switchyard_ws_upgrades_refused_total', 'reason="ip_limit"')).toBe(1);
  });
});
