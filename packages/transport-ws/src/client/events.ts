/**
 * Typed events, Socket.IO style: an event map names each event and the type of its data,
 * e.g. `interface ServerEvents { chat: { text: string }; joined: { user: string } }`. Give one
 * to the node and to the client and the compiler checks every send and narrows every handler;
 * without one, any event name and any data are accepted, as before.
 */
export type EventMap = object;

/** No map: any event name (or none) with any data. */
export type AnyEvents = Record<string, unknown>;

type Names<M> = Extract<keyof M, string>;

/** The event names a map allows (without a map: any string, or none). */
export type EventName<M> = string extends keyof M ? string | undefined : Names<M>;

/** The data of event `E` in map `M`. */
export type EventData<M, E> = E extends keyof M ? M[E] : unknown;

/** One event of map `M` as an object whose `data` narrows with `event`. */
export type EventOf<M> = string extends keyof M ? { event: string | undefined; data: unknown } : { [K in Names<M>]: { event: K; data: M[K] } }[Names<M>];

/** `(data, event)` of map `M`, narrowed together (`if (event === 'chat') data.text`). */
export type EventArgs<M> = string extends keyof M ? [data: unknown, event: string | undefined] : { [K in Names<M>]: [data: M[K], event: K] }[Names<M>];
