/**
 * `@switchyard/core/adapter`: what an author of a backend (a bus, registry, session store or
 * history) or of a transport needs beyond the application API at `@switchyard/core`. An
 * application never imports from here.
 *
 * - a bus: `BusRuntime` (or `createBusRuntime`) around a `BusDriver`; the runtime owns status,
 *   the bounded ordered publish buffer, resubscription and close;
 * - any backend: `parseConfig` for the options schema, `describeConnectFailure` and
 *   `withoutCredentials` for connection errors, `withDeadline`, `noopObserver`, `randomId`;
 * - a history backend or a transport reading history: `encodeHistoryRecord`/`decodeHistoryRecord`;
 * - a transport: the bus topic names (`Topics`, `topicFor`, `historyStream`), the envelope
 *   codec and `prepareDelivery` (the one way a deliver envelope is made), `TypedEmitter`;
 *   `SessionService` (open and resume, placement and redirect, session cursors, drain targets,
 *   with `inBatches` to pace the moves), `RoomJoins` (a room join: membership, the hold on live
 *   messages, the replay of what a resuming client missed, in order) and under it
 *   `readAfter`/`planReplay`, so a transport only binds its sockets and frames;
 * - the in-memory ports one by one (`MemoryBus`, ...) for tests that compose single ports.
 *
 * The port interfaces are here too (as types), as they are at the root.
 */
export type * from './ports/index.js';
export { noopObserver } from './ports/observer.js';
export { composeAdapter, type AdapterPorts, type ComposeAdapterOptions, type ComposedAdapter } from './ports/compose-adapter.js';

export { BusRuntime, createBusRuntime, type BusRuntimeOptions } from './bus/runtime.js';
export type { BusDriver, BusDriverEvents, BusPart } from './bus/driver.js';
export { describeConnectFailure, withoutCredentials, type ConnectFailureReason, type ConnectTarget, type ConnectWords } from './connect-error.js';
export { parseConfig, type ConfigIssue, type ParseConfigOptions } from './config/parse.js';

export { Topics, topicFor, historyStream } from './model/address.js';
export { encodeHistoryRecord, decodeHistoryRecord, type HistoryRecord } from './model/history-record.js';
export { EnvelopeCodec, type DecodeResult, type DropReason, type EnvelopeCodecOptions } from './cluster/envelope-codec.js';
export { prepareDelivery, type PreparedDelivery } from './cluster/deliver.js';

export { SessionService, SessionOpening, type SessionPeer, type PeerCursor, type OpenRequest, type ResumeFrom, type Redirect, type MoveTarget, type SessionCluster, type SessionServiceOptions } from './session/session-service.js';
export { RoomJoins, type JoinCursor, type JoinPeer, type JoinSink, type RoomJoined, type RoomJoinsOptions } from './session/room-joins.js';
export { readAfter, planReplay, type ReplayRead, type ReplayPlan, type ReplayGap, type ReplayState, type ReplayCursor } from './session/replay.js';
export { inBatches, type BatchPacing } from './session/batches.js';

export { MemoryBus, type MemoryBusOptions } from './memory/bus.js';
export { MemoryHistory, type MemoryHistoryOptions } from './memory/history.js';
export { MemoryRegistry } from './memory/registry.js';
export { MemorySessionStore } from './memory/sessions.js';

export { TypedEmitter } from './util/emitter.js';
export { randomId } from './util/id.js';
export { withDeadline } from './util/deadline.js';
