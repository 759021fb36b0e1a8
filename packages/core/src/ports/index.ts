export type * from './lifecycle.js';
export type * from './bus.js';
export type * from './history.js';
export type * from './registry.js';
export type * from './sessions.js';
export type * from './observer.js';
export type * from './adapter.js';
