import type { Logger } from '../logger.js';
import { Topics, topicFor, type Address } from '../model/address.js';
import type { ControlEnvelope, Envelope, EnvelopeInput } from '../model/envelope.js';
import type { ClusterMetrics } from '../metrics/cluster-metrics.js';
import type { MessageBus, Subscription } from '../ports/bus.js';
import type { HistoryStore } from '../ports/history.js';
import type { SenderWindows } from '../delivery/sender-windows.js';
import { prepareDelivery } from './deliver.js';
import type { DropReason, EnvelopeCodec } from './envelope-codec.js';
import type { PublishOptions, PublishResult } from './types.js';

export interface RouterDeps {
  nodeId: string;
  bus: MessageBus;
  history: HistoryStore | undefined;
  codec: EnvelopeCodec;
  metrics: ClusterMetrics;
  logger: Logger;
  /** Replay protection and loss detection for envelopes from the bus. */
  windows: SenderWindows;
  /** An envelope for this node: from the bus, or published here for local interest. */
  receive(envelope: Envelope): void;
  dropped(reason: DropReason, detail?: string): void;
  /** At least one envelope of `sender` on `topic` never arrived (its sequence jumped). */
  lost(topic: string, sender: string): void;
}

/**
 * Moves envelopes between nodes. Interest is reference counted per topic: the bus subscribes
 * on the first `acquire` and unsubscribes on the last `release`, so a node receives only what
 * its local clients need. A publish is handed to local listeners at once when this node holds
 * the topic, and to other nodes through the bus; envelopes that come back from the bus from
 * this node are ignored, so nothing is delivered twice.
 */
export class MessageRouter {
  private readonly interest = new Map<string, { count: number; sub: Promise<Subscription> }>();

  constructor(private readonly deps: RouterDeps) {}

  async acquire(topic: string): Promise<void> {
    let entry = this.interest.get(topic);
    if (!entry) {
      const sub = this.deps.bus.subscribe(topic, (payload) => this.onBusMessage(payload, topic));
      const created = { count: 0, sub };
      entry = created;
      this.interest.set(topic, created);
      sub.catch(() => {
        if (this.interest.get(topic) === created) this.interest.delete(topic);
      });
    }
    entry.count++;
    await entry.sub;
  }

  async release(topic: string): Promise<void> {
    const entry = this.interest.get(topic);
    if (!entry) return;
    if (--entry.count > 0) return;
    this.interest.delete(topic);
    const sub = await entry.sub.catch(() => undefined);
    await sub?.unsubscribe();
  }

  topics(): string[] {
    return [...this.interest.keys()];
  }

  /** Drop every subscription (shutdown). */
  async releaseAll(): Promise<void> {
    const subs = [...this.interest.values()].map((i) => i.sub);
    this.interest.clear();
    await Promise.all(subs.map((s) => s.then((x) => x.unsubscribe()).catch(() => undefined)));
  }

  async publish(address: Address, data: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    const prepared = prepareDelivery(this.deps.codec, this.deps.history, address, data, options);
    const { envelope, result } = prepared instanceof Promise ? await prepared : prepared;
    const topic = topicFor(address);
    const self = this.deps.nodeId;
    const onlyHere = (address.kind === 'node' && address.nodeId === self) || (address.kind === 'connection' && address.nodeId === self);
    if (onlyHere || this.interest.has(topic)) this.deps.receive(envelope);
    if (onlyHere) return result;
    if (result.offset === undefined) {
      await this.send(topic, envelope);
      return result;
    }
    // In history the message is committed: a bus that refuses it now only delays it (the other
    // nodes find the hole with the next message, or when they check the room, and read it from
    // history). Failing the publish would make the caller retry, and the message would be there twice.
    await this.send(topic, envelope).catch((err: unknown) => this.deps.logger.debug({ err, topic, offset: result.offset }, 'bus refused a message already in history; other nodes will read it from there'));
    return result;
  }

  async control(action: ControlEnvelope['action'], args: Record<string, unknown>, node: string | undefined): Promise<void> {
    const envelope = this.deps.codec.build<ControlEnvelope>({ type: 'control', action, args, ...(node ? { node } : {}) });
    if (node === this.deps.nodeId) {
      this.deps.receive(envelope);
      return;
    }
    await this.send(node ? Topics.node(node) : Topics.clusterEvents, envelope);
  }

  /**
   * Send a cluster envelope (failover plan, query, reply) to one node's inbox, or to every node
   * when `node` is undefined; this node's own copy is handed over locally, not through the bus.
   */
  async sendTo<T extends Envelope>(input: EnvelopeInput<T>, node?: string): Promise<void> {
    const envelope = this.deps.codec.build<T>(input);
    if (node === undefined || node === this.deps.nodeId) this.deps.receive(envelope);
    if (node === this.deps.nodeId) return;
    await this.send(node === undefined ? Topics.clusterEvents : Topics.node(node), envelope);
  }

  private async send(topic: string, envelope: Envelope): Promise<void> {
    const end = this.deps.metrics.publishDuration.startTimer();
    await this.deps.bus.publish(topic, this.deps.codec.encode(envelope, topic));
    end();
    this.deps.metrics.envelopesPublished.inc({ type: envelope.type });
  }

  private onBusMessage(payload: Uint8Array, topic: string): void {
    // our own publish coming back: handed to local listeners when published; skipped before decoding
    if (this.deps.codec.isOwn(payload)) return;
    const decoded = this.deps.codec.decode(payload, topic);
    if (!decoded.ok) return this.drop(decoded.reason, decoded.detail);
    const envelope = decoded.envelope;
    if (envelope.from === this.deps.nodeId) return; // handed to local listeners when published
    const verdict = this.deps.windows.check(envelope, topic);
    if (!verdict.ok) return this.drop(verdict.reason, `${envelope.from} on ${topic}`);
    if (verdict.lost) {
      this.deps.metrics.envelopeGaps.inc();
      this.deps.logger.debug({ topic, from: envelope.from }, 'an envelope of this sender never arrived');
      this.deps.lost(topic, envelope.from);
    }
    this.deps.metrics.envelopesReceived.inc({ type: envelope.type });
    this.deps.metrics.busLatency.observe(Math.max(0, Date.now() - envelope.ts) / 1000);
    this.deps.receive(envelope);
  }

  private drop(reason: DropReason, detail?: string): void {
    this.deps.metrics.envelopesDropped.inc({ reason });
    this.deps.logger.debug({ reason, detail }, 'envelope dropped');
    this.deps.dropped(reason, detail);
  }
}
