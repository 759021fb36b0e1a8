/**
 * `@switchyard/fastify`: a Switchyard node inside a Fastify app. `app.register(switchyard, {
 * cluster, path: '/ws' })`; the node is `app.switchyard`.
 */
export { switchyard, switchyard as default } from './plugin.js';
export { pluginOptionsSchema, type SwitchyardPluginOptions } from './options.js';
