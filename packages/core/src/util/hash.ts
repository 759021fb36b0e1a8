/** 64-bit FNV-1a of a string, as a bigint-free pair folded into a float in [0, 1). Fast and well spread. */
export function hash32(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche (murmur3 fmix32) so near keys spread
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform value in (0, 1) for a key and a node id. */
export function unitHash(key: string, nodeId: string): number {
  const a = hash32(`${nodeId}\u0000${key}`);
  const b = hash32(`${key}\u0000${nodeId}`, 0x9747b28c);
  return ((a * 2 ** 21 + (b >>> 11)) + 0.5) / 2 ** 53;
}

/**
 * Weighted rendezvous (highest random weight) hashing: the node with the highest
 * `-weight / ln(u)` wins. Adding a node moves about 1/N of the keys, removing one moves only
 * its own keys, and weights shift shares proportionally.
 */
export function rendezvous<T extends { id: string; weight?: number }>(key: string, nodes: readonly T[]): T | undefined {
  let best: T | undefined;
  let bestScore = -Infinity;
  for (const n of nodes) {
    const score = -(n.weight ?? 1) / Math.log(unitHash(key, n.id));
    if (score > bestScore || (score === bestScore && best !== undefined && n.id < best.id)) {
      best = n;
      bestScore = score;
    }
  }
  return best;
}
