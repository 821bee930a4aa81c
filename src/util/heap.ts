/**
 * Edge (process): how this process's JavaScript heap grows, for work that makes a lot of short-lived
 * garbage alongside a large live set (an offline scan of a big export).
 *
 * Two V8 settings, both read by V8 each time it sizes the heap, so they can be set at run time:
 *  - the young generation stays at its starting size (`--semi-space-growth-factor=1`). V8 grows it up to
 *    64 MiB per half on a machine with this much memory; while a scan streams 200,000 records, every
 *    collection then finds batches in flight, promotes them, and the old generation grows with garbage;
 *  - after each full collection the old generation may grow by a quarter of what is live before the next
 *    one (`--heap-growing-percent=25`), instead of V8's factor of up to 4× for a fast-allocating heap:
 *    garbage promoted between full collections no longer piles up to twice the live data.
 * On the 200k-record benchmark the first cut peak memory by about a quarter and user CPU by a sixth; the
 * second cut it again from 289–316 MiB to 245–247 MiB with no measurable CPU cost (alternating runs,
 * docs/performance.md). They are a command's choice, not the package's: the SBOM step, whose objects live
 * longer, is faster with V8's defaults, so only `scan` sets them. V8 flags set after start-up are not a
 * stable interface; a V8 that ignores them only costs memory, never changes a result.
 */
import v8 from 'node:v8'

let applied = false

/** Keeps the young generation at its starting size and the old generation close to its live data, from now on, in this process and the workers it starts. */
export function keepHeapSmall(): void {
  if (applied) return
  applied = true
  v8.setFlagsFromString('--semi-space-growth-factor=1')
  v8.setFlagsFromString('--heap-growing-percent=25')
}
