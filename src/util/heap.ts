/**
 * Edge (process): how this process's JavaScript heap grows, for work that makes a lot of short-lived
 * garbage alongside a large live set (an offline scan of a big export).
 *
 * V8 grows the young generation up to 64 MiB per half on a machine with this much memory; while a scan
 * streams 200,000 records, every collection then finds batches in flight, promotes them, and the old
 * generation grows with garbage: most of the scan's peak memory. Keeping the young generation at its
 * starting size (`--semi-space-growth-factor=1`, read by V8 each time it would grow it) measured a
 * third less peak memory and less CPU time on the 200k-record benchmark (docs/performance.md). The
 * flag is set at run time, so it is a command's choice, not the package's: the SBOM step, whose
 * objects live longer, is faster with the default. V8 flags set after start-up are not a stable
 * interface; a V8 that ignores this one only costs memory, never changes a result.
 */
import v8 from 'node:v8'

let applied = false

/** Keeps the young generation at its starting size from now on, in this process and the workers it starts. */
export function keepYoungGenerationSmall(): void {
  if (applied) return
  applied = true
  v8.setFlagsFromString('--semi-space-growth-factor=1')
}
