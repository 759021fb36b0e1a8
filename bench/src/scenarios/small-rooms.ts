import { publishAndMeasure } from './fanout.js';
import type { Scenario } from './context.js';

/** Small rooms: many rooms of a few members each (chat-like), members spread over the nodes, moderate load. */
export const smallRooms: Scenario = async (ctx) => {
  const size = Math.max(2, ctx.s.roomSize);
  const roomCount = Math.ceil(ctx.s.clients / size);
  const rooms = Array.from({ length: roomCount }, (_, r) => `chat-${r}`);
  const members = (room: string) => {
    const r = Number(room.slice(5));
    return Math.min(size, ctx.s.clients - r * size);
  };
  const out = await publishAndMeasure(ctx, { roomsOf: (g) => [`chat-${Math.floor(g / size)}`], rooms, steps: [{ rate: ctx.s.rate, ms: ctx.s.duration * 1000 }], membersOf: members });
  return { metrics: { ...out.metrics, rooms: roomCount, room_size: size }, latency: out.latency, timeline: out.timeline };
};
