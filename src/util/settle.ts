/**
 * Like `Promise.all`, but waits for every promise before it throws, and throws the first failure in
 * argument order: concurrent steps never outlive the call (no half-done work racing a cleanup), and
 * which error is reported does not depend on timing.
 */
export async function settleAll<T extends readonly unknown[]>(
  promises: readonly [...{ [K in keyof T]: Promise<T[K]> }],
): Promise<T> {
  const results = await Promise.allSettled(promises)
  for (const r of results) if (r.status === 'rejected') throw r.reason
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T
}
