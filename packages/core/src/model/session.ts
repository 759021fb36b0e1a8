/** Where a client is in one room's history. */
export interface RoomCursor {
  /** Last offset the client has seen; 0 for none. */
  offset: number;
  /** The history epoch that offset belongs to; null when the room keeps no history. */
  epoch: string | null;
}

/** A client session: survives reconnects and moves between nodes on failover. */
export interface SessionRecord {
  id: string;
  /** The node currently responsible for the session. */
  nodeId: string;
  userId?: string | undefined;
  /** Rooms the session is in, with its position in each. */
  rooms: Record<string, RoomCursor>;
  createdAt: number;
  updatedAt: number;
  /** Free-form data the application stores with the session (small). */
  data?: Record<string, unknown> | undefined;
}

/** Result of moving a dead or draining node's sessions. */
export interface ReassignResult {
  /** Sessions this call moved, with their new node. */
  moved: Record<string, string>;
  /** Sessions not moved because they were no longer on the source node (someone else moved them) or are gone. */
  skipped: string[];
}
