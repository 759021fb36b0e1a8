import type { LogLevel } from 'fastify';
import { parseConfig } from '@switchyard/core/adapter';
import { nodeOptionsSchema, retiredNodeOptions, type NodeOptionsInput } from '@switchyard/transport-ws';
import { z } from 'zod';
import { SOURCE } from './errors.js';

/** An option the plugin does not take: any value is refused with `message`. */
const refused = (message: string) => z.custom<never>(() => false, message).optional();

/**
 * The plugin's own options, and the node options it refuses (the node serves on the Fastify
 * app's server). The README's options table is checked against this (test/readme-options.test.ts).
 */
export const pluginOwnOptionsSchema = z.strictObject({
  /** Serve /health, /ready, /metrics, /cluster and /route as Fastify routes (false: none). */
  http: z.boolean().default(true),
  /** Prefix of those routes, e.g. `/switchyard` serves `/switchyard/health`... (default: none). */
  httpPrefix: nodeOptionsSchema.shape.httpPrefix,
  /** How long `app.close()` gives clients to move and sends to finish, ms (default: the node's `drain.graceMs`, 10 s). */
  graceMs: z.number().int().min(0).max(600_000).optional(),
  /** Fastify's log level for the plugin's routes (a register option of Fastify), e.g. `'warn'` to keep probes out of the logs. */
  logLevel: z.string().min(1).optional(),
  server: refused("the plugin attaches the node to the Fastify app's own server (app.server): do not give server"),
  port: refused("the node serves on the Fastify app's port: give it to app.listen({ port }), not to the plugin"),
  host: refused("the node serves on the Fastify app's address: give it to app.listen({ host }), not to the plugin"),
  prefix: refused('the plugin is not encapsulated (fastify-plugin), so a register prefix would not apply: give httpPrefix for the routes and path for the WebSocket'),
});

/** Every option of the plugin: those of `createNode` (transport-ws `nodeOptionsSchema`) and the plugin's own. */
export const pluginOptionsSchema = z.strictObject({ ...nodeOptionsSchema.shape, ...pluginOwnOptionsSchema.shape });

/** What `app.register(switchyard, options)` takes. */
export type SwitchyardPluginOptions = Omit<NodeOptionsInput, 'server' | 'port' | 'host'> & {
  /** How long `app.close()` gives clients to move and sends to finish, ms (default: the node's `drain.graceMs`). */
  graceMs?: number;
  /** Fastify's log level for the plugin's routes. */
  logLevel?: LogLevel;
};

export interface PluginConfig {
  /** What goes to `createNode` (validated again there, with the cross-option rules). */
  node: NodeOptionsInput;
  graceMs: number | undefined;
  logLevel: LogLevel | undefined;
  http: boolean;
  httpPrefix: string;
}

/** Validate the plugin's options; a bad value throws SwitchyardError CONFIG_INVALID naming the option. */
export function parsePluginOptions(input: unknown): PluginConfig {
  const parsed = parseConfig(pluginOptionsSchema, input ?? {}, SOURCE, { retired: retiredNodeOptions });
  const { graceMs, logLevel, prefix: _prefix, ...node } = (input ?? {}) as SwitchyardPluginOptions & { prefix?: unknown };
  return { node, graceMs, logLevel, http: parsed.http, httpPrefix: parsed.httpPrefix };
}
