import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { createNode, type SwitchyardNode } from '@switchyard/transport-ws';
import { fastifyError } from './errors.js';
import { parsePluginOptions, type SwitchyardPluginOptions } from './options.js';
import { addRoutes } from './routes.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The Switchyard node serving WebSockets on this app's server (`@switchyard/fastify`). */
    switchyard: SwitchyardNode;
    /**
     * Settles when the node has started: at `app.ready()` when its URL is known beforehand
     * (`publicUrl`, or the cluster's `url`), else once the app listens (the URL is the address it
     * listens on). Rejects with the error when the start failed.
     */
    switchyardStarted: Promise<void>;
  }
}

const plugin: FastifyPluginAsync<SwitchyardPluginOptions> = async (app: FastifyInstance, input) => {
  const config = parsePluginOptions(input);
  if (app.initialConfig.http2) throw fastifyError('CONFIG_INVALID', 'http2: an HTTP/2 server has no WebSocket upgrade; create the Fastify app without http2 (https is fine)');
  const node = createNode({ ...config.node, server: app.server });
  app.decorate('switchyard', node);

  let settle: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  const started = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  started.catch(() => undefined); // nobody has to await it; app.listen() or the log reports the failure
  app.decorate('switchyardStarted', started);

  let starting: Promise<void> | undefined;
  let closing = false;
  /** Starts the node once; after app.close() it never starts (and switchyardStarted rejects with CLOSED). */
  const start = (): Promise<void> =>
    (starting ??= (closing ? Promise.reject(fastifyError('CLOSED', 'the app was closed before the switchyard node started')) : node.start()).then(
      () => settle?.resolve(),
      (err: unknown) => {
        settle?.reject(err);
        throw err;
      },
    ));

  // start() publishes the node's URL: known now, or the address the server listens on, which
  // exists only after listen() (and app.listen() runs the onReady hooks before it listens).
  if (node.options.publicUrl || node.cluster.config.url) {
    app.addHook('onReady', async () => {
      await start();
    });
  } else {
    app.addHook('onListen', async () => {
      await start().catch((err: unknown) => {
        if (closing) return; // closed right after listen (onListen waits for localhost's second address)
        node.logger.error({ err }, 'the switchyard node did not start: /ready answers 503');
        throw err; // Fastify logs it too; app.listen() has resolved already
      });
    });
  }

  // preClose runs before Fastify closes its server, which waits for every socket: the node's
  // clients must be moved and closed first. onClose covers an app closed before it was ready.
  const close = async (): Promise<void> => {
    closing = true;
    await start().catch(() => undefined); // a start in flight ends first; one not begun never will
    await node.close(config.graceMs === undefined ? {} : { graceMs: config.graceMs });
  };
  app.addHook('preClose', close);
  app.addHook('onClose', close);

  if (config.http) addRoutes(app, node, config.httpPrefix, config.logLevel);
};

/**
 * The Switchyard plugin: `app.register(switchyard, { cluster, path: '/ws' })`. Attaches a
 * WebSocket node to the app's server (upgrades on `path` only), serves its /health, /ready,
 * /metrics, /cluster and /route as routes, starts it with the app and drains it on `app.close()`.
 * The node is `app.switchyard`.
 */
export const switchyard = fp(plugin, { fastify: '5.x', name: '@switchyard/fastify' });
