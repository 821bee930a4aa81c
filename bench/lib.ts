/** Small helpers for the benchmarks: time whole commands, side by side, in one run. */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

export interface Measure {
  name: string
  /** median wall time in ms */
  wallMs: number
  /** peak resident memory in MiB (GNU time), or null when /usr/bin/time is unavailable */
  peakMiB: number | null
  runs: number
}

const GNU_TIME = '/usr/bin/time'

/** Runs `cmd` `runs` times after one warm-up and returns the median wall time and the peak memory. */
export function measure(
  name: string,
  cmd: string[],
  options: { cwd: string; runs?: number; env?: NodeJS.ProcessEnv },
): Measure {
  const runs = options.runs ?? 5
  const withTime = existsSync(GNU_TIME)
  const times: number[] = []
  let peak = 0
  for (let i = 0; i <= runs; i++) {
    const argv = withTime ? [GNU_TIME, '-f', '__RSS_KB__=%M', ...cmd] : cmd
    const start = process.hrtime.bigint()
    const r = spawnSync(argv[0]!, argv.slice(1), {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    })
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    if (r.status !== 0) throw new Error(`${name} failed (${r.status}): ${r.stderr.slice(-2000)}`)
    const m = /__RSS_KB__=(\d+)/.exec(r.stderr)
    if (m) peak = Math.max(peak, Number(m[1]) / 1024)
    if (i > 0) times.push(ms)
  }
  times.sort((a, b) => a - b)
  return { name, wallMs: times[Math.floor(times.length / 2)]!, peakMiB: withTime ? peak : null, runs }
}

/** Prints measures as a table with each one's ratio to the first. */
export function report(title: string, measures: Measure[]): void {
  const base = measures[0]!
  console.log(`\n${title}`)
  console.log('| tool | median wall | peak RSS | ratio to detbuild |')
  console.log('|---|---:|---:|---:|')
  for (const m of measures) {
    const rss = m.peakMiB === null ? 'n/a' : `${m.peakMiB.toFixed(0)} MiB`
    console.log(
      `| ${m.name} | ${m.wallMs.toFixed(0)} ms | ${rss} | ${(m.wallMs / base.wallMs).toFixed(2)}× |`,
    )
  }
}

/** One command to measure (helper 6's API; the lead reconciles this minimal version with theirs). */
export interface Contender {
  name: string
  cmd: string[]
  cwd: string
  env?: Record<string, string>
}

/**
 * Runs each contender `runs` times, ALTERNATING (A,B,C,A,B,C…) after one warm-up round, so that a change
 * in the machine's load hits every contender alike; median wall time and peak RSS (GNU time's %M).
 */
export function sideBySide(contenders: Contender[], options: { runs?: number } = {}): Measure[] {
  const runs = options.runs ?? 5
  const withTime = existsSync(GNU_TIME)
  const times = contenders.map((): number[] => [])
  const peaks = contenders.map(() => 0)
  for (let round = 0; round <= runs; round++) {
    for (const [i, c] of contenders.entries()) {
      const argv = withTime ? [GNU_TIME, '-f', '__RSS_KB__=%M', ...c.cmd] : c.cmd
      const start = process.hrtime.bigint()
      const r = spawnSync(argv[0]!, argv.slice(1), {
        cwd: c.cwd,
        env: { ...process.env, ...c.env },
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
      })
      const ms = Number(process.hrtime.bigint() - start) / 1e6
      if (r.status !== 0) throw new Error(`${c.name} failed (${r.status}): ${r.stderr.slice(-2000)}`)
      const m = /__RSS_KB__=(\d+)/.exec(r.stderr)
      if (m) peaks[i] = Math.max(peaks[i]!, Number(m[1]) / 1024)
      if (round > 0) times[i]!.push(ms)
    }
  }
  return contenders.map((c, i) => {
    const sorted = [...times[i]!].sort((a, b) => a - b)
    return {
      name: c.name,
      wallMs: sorted[Math.floor(sorted.length / 2)]!,
      peakMiB: withTime ? peaks[i]! : null,
      runs,
    }
  })
}
