import { BUSES, SCENARIOS, type Bus, type RunSettings, type ScenarioName, type System } from './types.js';

/** Sizes of each scenario when the command line does not say. */
export const DEFAULTS: Record<ScenarioName, Partial<RunSettings>> = {
  fanout: { nodes: 3, clients: 2000, rate: 20, duration: 6 },
  saturation: { nodes: 3, clients: 1000, rate: 200, duration: 9 },
  'small-rooms': { nodes: 3, clients: 2000, rate: 500, duration: 6, roomSize: 4 },
  'idle-memory': { nodes: 1, clients: 19_000 },
  'connect-storm': { nodes: 1, clients: 5000 },
  // issue 12: a surviving node takes 1,000 displaced clients (2 nodes x 1,000), a message every 200 ms
  failover: { nodes: 2, clients: 2000, rate: 5, duration: 12 },
  scale: { nodes: 6, clients: 100_000, duration: 60 },
};

/** Which systems run which scenario under --all (and why not, for the report). */
export function systemsFor(sc: ScenarioName, buses: Bus[]): System[] {
  const sy = buses.map((b) => `switchyard-${b}` as System);
  switch (sc) {
    case 'fanout':
    case 'saturation':
      return [...sy, 'socketio', 'ws', 'ws-batch'];
    case 'small-rooms':
      return [...sy, 'socketio'];
    case 'idle-memory':
      return [...sy.filter((s) => s === 'switchyard-redis'), 'socketio', 'ws', 'ws-batch'];
    case 'connect-storm':
      return [...sy, 'socketio', 'ws', 'ws-batch'];
    case 'failover':
      // the in-memory bus runs every node in one process: killing it kills the cluster
      return [...sy.filter((s) => s !== 'switchyard-memory'), 'socketio'];
    case 'scale':
      return sy.filter((s) => s === 'switchyard-redis');
  }
}

export const NOT_RUN: string[] = [
  'failover on the in-memory bus: its nodes share one process, so kill -9 takes the whole cluster down',
  'idle memory runs on the Redis bus only for Switchyard: a node keeps the same per-connection state on every bus (with the in-memory bus the session store would live in the node and blur the figure)',
  'scale runs on the Redis bus (the reference bus), and idle memory (19,000 connections per system), once per invocation with --all, not repeated: they hold the machine for minutes each; their connect phase is the slow part on 2 shared cores',
  'raw ws is a single node with no bus and no rooms (every socket gets every message); raw ws + room batching runs as many nodes as the clusters, joined by a bare TCP mesh (each message one JSON line to every peer), and takes its rooms from the connection URL: both are ceilings for fan-out and connects, not clusters, so they run neither small rooms nor failover',
];

export interface PlanInput {
  scenarios: ScenarioName[];
  systems: System[] | undefined;
  buses: Bus[];
  repeat: number;
  overrides: Partial<RunSettings>;
  all: boolean;
}

/** The runs in order: repeat k of every (scenario, system) before repeat k+1, so noise spreads over all. */
export function plan(p: PlanInput): RunSettings[] {
  const out: RunSettings[] = [];
  for (let rep = 0; rep < p.repeat; rep++) {
    for (const sc of p.scenarios) {
      if ((sc === 'scale' || sc === 'idle-memory') && rep > 0 && p.all) continue;
      const systems = (p.systems ?? systemsFor(sc, p.buses)).filter((s) => systemsFor(sc, BUSES as Bus[]).includes(s));
      for (const system of systems) {
        const d = { ...DEFAULTS[sc], ...p.overrides };
        const nodes = system === 'ws' ? 1 : (d.nodes ?? 3);
        const clients = d.clients ?? 1000;
        out.push({
          system,
          scenario: sc,
          nodes,
          clients,
          rate: d.rate ?? 100,
          duration: d.duration ?? 10,
          roomSize: d.roomSize ?? 4,
          payloadBytes: d.payloadBytes ?? 100,
          clientProcesses: d.clientProcesses ?? Math.max(2, Math.ceil(clients / 16_000)),
          deadline: d.deadline ?? (sc === 'scale' ? 900 : sc === 'idle-memory' ? 420 : 240),
        });
      }
    }
  }
  return out;
}

export { SCENARIOS };
