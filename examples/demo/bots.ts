/**
 * Simulated users: SDK clients in this process that join the `lobby` and chat now and then,
 * so the dashboard has connections to move and messages to count. Each message carries its
 * send time, which gives the end-to-end latency (client -> node -> bus -> node -> client).
 */
import { WebSocket } from 'ws';
import { createClient, type SwitchyardClient, type WebSocketConstructor } from '@switchyard/transport-ws/client';
import { LatencyWindow, RateMeter } from './stats.js';

const LINES = ['anyone up for lunch?', 'deploy looks green', 'who broke the build', 'coffee?', 'ship it', 'lgtm', 'brb', 'on it', 'nice'];

export interface BotsOptions {
  count: number;
  /** Node URLs the clients may start on (each bot starts on a different one). */
  urls: () => string[];
  /** Mean time between two messages of one bot, ms. */
  intervalMs?: number;
}

export class Bots {
  readonly clients: SwitchyardClient[] = [];
  readonly e2eLatency = new LatencyWindow();
  readonly published = new RateMeter();
  readonly reconnects = new RateMeter(60_000);
  private timers: Array<ReturnType<typeof setTimeout>> = [];
  private closed = false;

  constructor(private readonly o: BotsOptions) {}

  start(): void {
    const urls = this.o.urls();
    if (urls.length === 0) return;
    for (let i = 0; i < this.o.count; i++) {
      const rotated = [...urls.slice(i % urls.length), ...urls.slice(0, i % urls.length)];
      const client = createClient({
        urls: rotated,
        WebSocket: WebSocket as unknown as WebSocketConstructor,
        params: { name: `bot-${i + 1}` },
        reconnect: { baseMs: 200, maxMs: 3000 },
      });
      client.on('connected', (e) => {
        if (e.resumed) this.reconnects.mark();
      });
      client.on('error', () => undefined);
      const lobby = client.room('lobby');
      lobby.on('message', (m) => {
        const sentAt = (m.data as { sentAt?: unknown } | null)?.sentAt;
        if (typeof sentAt === 'number') this.e2eLatency.add(Date.now() - sentAt);
      });
      this.clients.push(client);
      this.schedule(client, i);
    }
  }

  private schedule(client: SwitchyardClient, i: number): void {
    if (this.closed) return;
    const mean = this.o.intervalMs ?? 3000;
    const t = setTimeout(() => {
      this.timers = this.timers.filter((x) => x !== t);
      if (client.state === 'connected') {
        const text = LINES[Math.floor(Math.random() * LINES.length)] as string;
        client
          .room('lobby')
          .publish('chat', { user: `bot-${i + 1}`, text, sentAt: Date.now() })
          .then(() => this.published.mark())
          .catch(() => undefined);
      }
      this.schedule(client, i);
    }, mean / 2 + Math.random() * mean);
    this.timers.push(t);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    for (const c of this.clients) c.close();
  }
}
