/**
 * Loopback source addresses for clients. Each run takes fresh ones (closed sockets sit in
 * TIME_WAIT for 60 s), at most `perAddress` clients each (28,232 ephemeral ports per address).
 * The first address of an invocation is random, so back-to-back invocations differ too.
 */
export class SourceAddresses {
  private n: number;

  constructor(readonly perAddress = 12_000) {
    this.n = 256 * (1 + Math.floor(Math.random() * 200));
  }

  /** Fresh addresses for `clients` clients. */
  take(clients: number): string[] {
    const k = Math.max(1, Math.ceil(clients / this.perAddress));
    const out: string[] = [];
    for (let i = 0; i < k; i++) {
      let a = this.n++;
      if (a % 256 < 2 || a % 256 === 255) a = this.n += 3;
      out.push(`127.${Math.floor(a / 65536) % 256}.${Math.floor(a / 256) % 256}.${a % 256}`);
    }
    return out;
  }
}
