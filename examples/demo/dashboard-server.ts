/**
 * The dashboard's HTTP server: pages and scripts, the live state as Server-Sent Events, and
 * the buttons' actions (start, stop, kill a node).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Asset } from './assets.js';
import type { DashboardState, LogEntry } from './web/types.js';

export interface DashboardActions {
  /** The latest state (built once a second by the demo). */
  state(): DashboardState | undefined;
  /** WebSocket URLs of the running nodes (the chat page connects to these). */
  urls(): string[];
  start(): Promise<string>;
  stop(id: string): Promise<void>;
  kill(id: string): Promise<void>;
}

export class DashboardServer {
  private readonly server: Server;
  private readonly streams = new Set<ServerResponse>();
  private readonly recentLog: LogEntry[] = [];

  constructor(
    private readonly assets: Map<string, Asset>,
    private readonly actions: DashboardActions,
  ) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => this.json(res, 500, { error: String((err as Error)?.message ?? err) }));
    });
  }

  async listen(port: number, host: string): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const a = this.server.address() as AddressInfo;
    return `http://${host}:${a.port}`;
  }

  /** Sends the state to every open dashboard. */
  push(state: DashboardState): void {
    const text = `event: state\ndata: ${JSON.stringify(state)}\n\n`;
    for (const res of this.streams) res.write(text);
  }

  /** Adds a line to the event log of every open dashboard (the last 100 are kept for new ones). */
  addLog(entry: LogEntry): void {
    this.recentLog.push(entry);
    if (this.recentLog.length > 100) this.recentLog.shift();
    const text = `event: log\ndata: ${JSON.stringify(entry)}\n\n`;
    for (const res of this.streams) res.write(text);
  }

  async close(): Promise<void> {
    for (const res of this.streams) res.end();
    this.streams.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (req.method === 'GET' || req.method === 'HEAD') {
      const asset = this.assets.get(path === '/index.html' ? '/' : path);
      if (asset) {
        res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(asset.body) });
        return void res.end(req.method === 'HEAD' ? undefined : asset.body);
      }
      if (path === '/api/state') return this.json(res, 200, this.actions.state() ?? null);
      if (path === '/api/log') return this.json(res, 200, this.recentLog);
      if (path === '/api/urls') return this.json(res, 200, { urls: this.actions.urls() });
      if (path === '/api/events') return this.stream(req, res);
      return this.json(res, 404, { error: 'not found' });
    }
    if (req.method !== 'POST') return this.json(res, 405, { error: 'method not allowed' });
    // The buttons only work from the dashboard's own pages.
    const origin = req.headers.origin;
    if (origin !== undefined && new URL(origin).host !== req.headers.host) return this.json(res, 403, { error: 'cross-origin request refused' });
    if (path === '/api/nodes') return this.json(res, 200, { id: await this.actions.start() });
    const m = /^\/api\/nodes\/([A-Za-z0-9_.:-]{1,64})\/(stop|kill)$/.exec(path);
    if (!m) return this.json(res, 404, { error: 'not found' });
    const [, id, action] = m as unknown as [string, string, 'stop' | 'kill'];
    try {
      // Answer at once; the dashboard shows the progress (draining takes a moment).
      const done = action === 'stop' ? this.actions.stop(id) : this.actions.kill(id);
      done.catch(() => undefined);
      await Promise.race([done, new Promise((r) => setTimeout(r, 50))]);
      this.json(res, 202, { id, action });
    } catch (err) {
      this.json(res, 409, { error: (err as Error).message });
    }
  }

  private stream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    const state = this.actions.state();
    if (state) res.write(`event: state\ndata: ${JSON.stringify(state)}\n\n`);
    for (const l of this.recentLog) res.write(`event: log\ndata: ${JSON.stringify(l)}\n\n`);
    this.streams.add(res);
    req.on('close', () => this.streams.delete(res));
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    if (res.headersSent) return void res.end();
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}
