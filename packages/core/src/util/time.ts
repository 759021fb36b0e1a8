export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check` until it returns a truthy value or `timeoutMs` passes (then reject with the last error). */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 5000, intervalMs = 10): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const e = new Error(`waitFor: condition not met within ${timeoutMs} ms`);
      if (lastError) (e as Error & { cause?: unknown }).cause = lastError;
      throw e;
    }
    await sleep(intervalMs);
  }
}
