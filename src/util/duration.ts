/**
 * Duration flags (`--timeout`), one convention for every command: a number with a unit, `500ms`, `30s`,
 * `2m`, `1h`, or several (`1m30s`), as cosign and Go's time.ParseDuration write them. A bare number is
 * the deprecated form: it keeps the unit the flag had before the convention (`scan --timeout` in
 * milliseconds, `sign --timeout` in seconds) and the caller warns. Pure.
 */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const
type Unit = keyof typeof UNIT_MS

/** The longest duration a timer can wait (Node's setTimeout turns anything longer into 1 ms). */
export const MAX_DURATION_MS = 2 ** 31 - 1

export interface Duration {
  /** whole milliseconds, at least 1 */
  ms: number
  /** true for a bare number (the deprecated form), read in `bareUnit` */
  bare: boolean
}

/**
 * `value` in milliseconds, or undefined when it is not a positive duration of at most
 * {@link MAX_DURATION_MS}: `bareUnit` is the unit of a bare number.
 */
export function parseDuration(value: string, bareUnit: Unit): Duration | undefined {
  const text = value.trim()
  let ms: number
  let bare = false
  if (/^\d+(?:\.\d+)?$/.test(text)) {
    ms = Number(text) * UNIT_MS[bareUnit]
    bare = true
  } else if (/^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/.test(text)) {
    ms = 0
    for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(m[1]) * UNIT_MS[m[2] as Unit]
  } else return undefined
  ms = Math.round(ms)
  if (!Number.isFinite(ms) || ms < 1 || ms > MAX_DURATION_MS) return undefined
  return { ms, bare }
}
