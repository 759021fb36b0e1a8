import { createCluster, MemoryHub, type CreateClusterOptions } from '@switchyard/core';
import { waitFor } from '@switchyard/core/testing';
import WebSocket from 'ws';
import { createNode, type NodeOptionsInput, type SwitchyardNode } from '../src/index.js';

export type Frame = Record<string, unknown> & { t: string };

/**
 * Start `ids.length` nodes on one in-memory hub, each listening on 127.0.0.1:0, and wait until all see each other ready.
 * The node timeout is generous (3 s) so that a busy machine (the browser test runs alongside) never declares a live node dead.
 */
export async function startNodes(ids: string[], options: Partial<NodeOptionsInput> = {}, cluster: Partial<CreateClusterOptions> = {}): Promise<SwitchyardNode[]> {
  const hub = new MemoryHub();
  const nodes = ids.map((id) =>
    createNode({
      cluster: createCluster({ hub, nodeId: id, heartbeatIntervalMs: 50, nodeTimeoutMs: 3000, history: true, ...cluster }),
      port: 0,
      ...options,
    }),
  );
  await Promise.all(nodes.map((n) => n.start()));
  await waitFor(() => nodes.every((n) => n.cluster.healthyNodes().length === ids.length && n.cluster.healthyNodes().every((x) => x.url !== '')), 5000);
  return nodes;
}

/** A raw `ws` client that records every frame (batches unpacked into `msgs`). */
export class TestClient {
  readonly frames: Frame[] = [];
  readonly msgs: Frame[] = [];
  closed: { code: number; reason: string } | undefined;
  /** Answer server pings (turn off to test heartbeat timeouts). */
  autoPong = true;
  private nextId = 1;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as Frame;
      this.frames.push(f);
      if (f.t === 'batch') for (const m of f.m as Frame[]) this.msgs.push(m);
      else if (f.t === 'msg') this.msgs.push(f);
      if (f.t === 'ping' && this.autoPong) ws.send('{"t":"pong"}');
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: String(reason) }));
    ws.on('error', () => undefined);
  }

  static async open(url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, 'switchyard.v1', options);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    });
    return new TestClient(ws);
  }

  /** Connect and say hello; follows redirect frames (at most 3) unless `follow` is false. Resolves with the welcome. */
  static async connect(url: string, hello: Record<string, unknown> = {}, follow = true): Promise<{ client: TestClient; welcome: Frame; hops: string[] }> {
    const hops: string[] = [url];
    for (;;) {
      const client = await TestClient.open(url);
      client.send({ t: 'hello', v: 1, ...hello });
      const f = await client.waitFrame((x) => x.t === 'welcome' || x.t === 'redirect');
      if (f.t === 'welcome') return { client, welcome: f, hops };
      await waitFor(() => client.closed);
      if (!follow || hops.length > 3) throw new Error(`redirected to ${String(f.url)}`);
      url = String(f.url);
      hops.push(url);
    }
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Send a request with an id and wait for its ack or error. */
  async request(frame: Record<string, unknown>): Promise<Frame> {
    const id = this.nextId++;
    this.send({ ...frame, id });
    return this.waitFrame((f) => (f.t === 'ack' || f.t === 'error') && f.id === id);
  }

  async waitFrame(pred: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    return waitFor(() => this.frames.find(pred), timeoutMs);
  }

  async waitMsgs(n: number, timeoutMs = 5000): Promise<Frame[]> {
    await waitFor(() => this.msgs.length >= n, timeoutMs);
    return this.msgs;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const done = new Promise((r) => this.ws.once('close', r));
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    else this.ws.terminate();
    await done;
  }
}

export async function httpGet(base: string, path: string): Promise<{ status: number; text: string; json: () => unknown }> {
  const res = await fetch(base.replace(/^ws/, 'http').replace(/\/ws$/, '') + path);
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

/** Scrape one sample from Prometheus text, e.g. metric(text, 'switchyard_ws_bad_frames_total', 'reason="bad_json"'). */
export function metric(text: string, name: string, labels = ''): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (labels && !line.includes(labels)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return NaN;
}

/** A crash as the clients see it: the node stops accepting, its sockets die (1006), and it leaves the cluster by timeout (no deregistration). */
export async function crash(node: SwitchyardNode): Promise<void> {
  node.httpServer?.close();
  for (const s of node.sockets) s.terminate();
  node.httpServer?.closeAllConnections();
  await node.cluster.halt();
}
