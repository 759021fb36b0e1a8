import { isSwitchyardError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EnvelopeInput, QueryEnvelope, ReplyEnvelope } from '../model/envelope.js';
import { randomId } from '../util/id.js';
import type { QueryResult } from './types.js';

export type QueryHandler = (args: unknown, from: string) => unknown | Promise<unknown>;

export interface QueriesDeps {
  nodeId: string;
  logger: Logger;
  /** Send a query to every node (this one included), or to one node. */
  sendQuery(query: EnvelopeInput<QueryEnvelope>, node?: string): Promise<void>;
  /** Send a reply to the asking node's inbox. */
  sendReply(reply: EnvelopeInput<ReplyEnvelope>, to: string): Promise<void>;
}

interface Waiting {
  expected: Set<string>;
  result: QueryResult;
  done: (r: QueryResult) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Cluster-wide questions that never hang on a slow, dead or older node: the asker names the
 * nodes it expects, waits up to a timeout, and gets what came back with who answered, who
 * failed and who stayed silent. A node that does not know a query name answers with an error;
 * an older node that cannot read queries at all simply shows up as missing.
 */
export class ClusterQueries {
  private readonly handlers = new Map<string, QueryHandler>();
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly deps: QueriesDeps) {}

  handle(name: string, handler: QueryHandler): () => void {
    this.handlers.set(name, handler);
    return () => {
      if (this.handlers.get(name) === handler) this.handlers.delete(name);
    };
  }

  async ask(name: string, args: unknown, expected: string[], timeoutMs: number): Promise<QueryResult> {
    const qid = randomId(9);
    const result: QueryResult = { results: [], errors: [], missing: [], complete: false };
    const promise = new Promise<QueryResult>((resolve) => {
      const w: Waiting = {
        expected: new Set(expected),
        result,
        done: resolve,
        timer: setTimeout(() => this.finish(qid), timeoutMs),
      };
      this.waiting.set(qid, w);
    });
    if (expected.length === 0) this.finish(qid);
    else await this.deps.sendQuery({ type: 'query', qid, name, args }, expected.length === 1 ? expected[0] : undefined).catch((err: unknown) => {
      this.deps.logger.warn({ err, name }, 'query could not be sent');
      this.finish(qid);
    });
    return promise;
  }

  /** A query arrived (from any node, this one included). */
  async onQuery(q: QueryEnvelope): Promise<void> {
    const handler = this.handlers.get(q.name);
    let reply: EnvelopeInput<ReplyEnvelope>;
    if (!handler) {
      reply = { type: 'reply', qid: q.qid, ok: false, error: { code: 'UNKNOWN_QUERY', message: `no handler for query "${q.name}"` } };
    } else {
      try {
        reply = { type: 'reply', qid: q.qid, ok: true, result: await handler(q.args, q.from) };
      } catch (err) {
        const code = isSwitchyardError(err) ? err.code : 'HANDLER_ERROR';
        reply = { type: 'reply', qid: q.qid, ok: false, error: { code, message: (err as Error).message ?? String(err) } };
      }
    }
    await this.deps.sendReply(reply, q.from).catch((err: unknown) => this.deps.logger.warn({ err }, 'query reply could not be sent'));
  }

  onReply(r: ReplyEnvelope): void {
    const w = this.waiting.get(r.qid);
    if (!w || !w.expected.has(r.from)) return;
    w.expected.delete(r.from);
    if (r.ok) w.result.results.push({ node: r.from, result: r.result });
    else w.result.errors.push({ node: r.from, error: r.error ?? { code: 'UNKNOWN', message: 'no detail' } });
    if (w.expected.size === 0) this.finish(r.qid);
  }

  stop(): void {
    for (const qid of [...this.waiting.keys()]) this.finish(qid);
  }

  private finish(qid: string): void {
    const w = this.waiting.get(qid);
    if (!w) return;
    this.waiting.delete(qid);
    clearTimeout(w.timer);
    w.result.missing = [...w.expected].sort();
    w.result.complete = w.result.missing.length === 0 && w.result.errors.length === 0;
    w.done(w.result);
  }
}
