import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@switchyard/core/testing';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { jwtAuth, type SwitchyardNode } from '../src/index.js';
import { internalsOf } from '../src/server/host.js';
import { httpGet, metric, startNodes, TestClient } from './helpers.js';

const nodes: SwitchyardNode[] = [];
const clients: TestClient[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A JWKS endpoint on 127.0.0.1 serving `keys`; counts its requests. */
async function serveJwks(keys: JWK[]): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    if (req.url !== '/.well-known/jwks.json') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`, hits: () => hits };
}

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

  it('JWT with JWKS: RS256 and ES256 keys from the endpoint are accepted; an unknown key, a wrong algorithm or an expired token is refused', async () => {
    const rsa = await generateKeyPair('RS256');
    const ec = await generateKeyPair('ES256');
    const stranger = await generateKeyPair('RS256');
    const strangerEc = await generateKeyPair('ES256');
    const jwk = async (key: CryptoKey, kid: string, alg: string): Promise<JWK> => ({ ...(await exportJWK(key)), kid, alg, use: 'sig' });
    const jwks = await serveJwks([await jwk(rsa.publicKey, 'rsa-1', 'RS256'), await jwk(ec.publicKey, 'ec-1', 'ES256')]);
    nodes.push(...(await startNodes(['a'], { authenticate: jwtAuth({ jwksUrl: jwks.url, issuer: 'idp', audience: 'switchyard' }) })));
    const [a] = nodes as [SwitchyardNode];
    const token = (key: CryptoKey | Uint8Array, alg: string, kid: string, sub: string, exp: string | number = '5m') =>
      new SignJWT({ scope: 'chat' }).setProtectedHeader({ alg, kid }).setSubject(sub).setIssuer('idp').setAudience('switchyard').setExpirationTime(exp).sign(key);

    const viaRsa = await TestClient.connect(`${a.url}?token=${await token(rsa.privateKey, 'RS256', 'rsa-1', 'alice')}`, {});
    clients.push(viaRsa.client);
    expect(viaRsa.welcome.user).toBe('alice');
    expect(a.connections.get(String(viaRsa.welcome.conn))?.data.claims).toMatchObject({ sub: 'alice', scope: 'chat', iss: 'idp' });
    const viaEc = await TestClient.connect(a.url, { token: await token(ec.privateKey, 'ES256', 'ec-1', 'bob') });
    clients.push(viaEc.client);
    expect(viaEc.welcome.user).toBe('bob');
    expect(jwks.hits()).toBeGreaterThanOrEqual(1);

    // signed by a key the JWKS does not hold (same kid, and an unknown kid)
    await expect(TestClient.open(`${a.url}?token=${await token(stranger.privateKey, 'RS256', 'rsa-1', 'mallory')}`)).rejects.toMatchObject({ status: 401 });
    await expect(TestClient.open(`${a.url}?token=${await token(stranger.privateKey, 'RS256', 'rsa-9', 'mallory')}`)).rejects.toMatchObject({ status: 401 });
    // an HMAC token: no symmetric key is ever taken from a JWKS
    await expect(TestClient.open(`${a.url}?token=${await token(new TextEncoder().encode(secret), 'HS256', 'rsa-1', 'eve')}`)).rejects.toMatchObject({ status: 401 });
    // expired beyond the clock tolerance
    await expect(TestClient.open(`${a.url}?token=${await token(rsa.privateKey, 'RS256', 'rsa-1', 'late', Math.floor(Date.now() / 1000) - 60)}`)).rejects.toMatchObject({ status: 401 });
    const bad = await TestClient.open(a.url);
    clients.push(bad);
    bad.send({ t: 'hello', v: 1, token: await token(strangerEc.privateKey, 'ES256', 'ec-1', 'mallory') });
    await waitFor(() => bad.closed);
    expect(bad.closed?.code).toBe(4001);
    const text = (await httpGet(a.url, '/metrics')).text;
    expect(metric(text, 'switchyard_ws_auth_failures_total', 'stage="upgrade"')).toBe(4);
    expect(metric(text, 'switchyard_ws_auth_failures_total', 'stage="hello"')).toBe(1);
  });

  it('origin allow-list (403), per-IP connection limit (429), room-join hook', async () => {
    nodes.push(
      ...(await startNodes(['a'], { origins: ['https://app.example'], limits: { maxConnectionsPerIp: 2 }, authorizeJoin: (_c: unknown, room: string) => !room.startsWith('admin') })),
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
    await waitFor(() => internalsOf(a).ipLimiter.count('127.0.0.1') === 1);
    const three = await TestClient.open(a.url);
    clients.push(three);
    const text = (await httpGet(a.url, '/metrics')).text;
    expect(metric(text, 'switchyard_ws_upgrades_refused_total', 'reason="origin"')).toBe(1);
    expect(metric(text, 'switchyard_ws_upgrades_refused_total', 'reason="ip_limit"')).toBe(1);
  });
});
