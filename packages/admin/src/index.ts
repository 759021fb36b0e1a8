/**
 * `@switchyard/admin`: the admin dashboard of a Switchyard cluster, mounted on any
 * transport-ws node under a path. Plain HTML, CSS and ES-module JavaScript: no build step.
 */
export { mountAdmin, type AdminHandle } from './mount.js';
export { attachAdminAgent, AdminQueries, type ConnectionView, type ConnectionsReport, type NodeReport } from './agent.js';
export { ALLOW_ALL_INSECURE, ACTION_HEADER, type AuthorizeHook, type AdminPermissions } from './authorize.js';
export { parseAdminOptions, type AdminOptions, type AdminOptionsInput } from './options.js';
export type { AdminEvent, AdminEventKind } from './events.js';
export type { ClusterSnapshot, NodeSnapshot, RoomSnapshot } from './snapshot.js';
export type { LatencySummary } from './latency.js';
export type { DrainResult, DisconnectResult } from './actions.js';
