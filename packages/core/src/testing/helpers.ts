import { randomId } from '../util/id.js';
export { waitFor, sleep } from '../util/time.js';

/** A unique name per test so suites never see each other's data on a shared backend. */
export const unique = (prefix: string): string => `${prefix}-${randomId(6)}`;

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Tracks what a test created so `afterEach` can close it, in reverse order. */
export class Closer {
  private readonly items: Array<() => Promise<unknown>> = [];
  add<T extends { close(): Promise<unknown> }>(item: T): T {
    this.items.push(() => item.close());
    return item;
  }
  defer(fn: () => Promise<unknown>): void {
    this.items.push(fn);
  }
  async closeAll(): Promise<void> {
    const errors: unknown[] = [];
    for (const fn of this.items.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length) throw errors[0];
  }
}

/** Expect a promise to reject with a SwitchyardError of `code`. */
export async function rejectsWithCode(p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p;
  } catch (err) {
    const c = (err as { code?: unknown }).code;
    if (c !== code) throw new Error(`expected rejection with code ${code}, got ${String(c)}: ${(err as Error).message}`);
    return;
  }
  throw new Error(`expected rejection with code ${code}, but it resolved`);
}
