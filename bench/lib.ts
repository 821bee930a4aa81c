/**
 * Small helpers for the benchmarks: time whole commands side by side, alternating run by run, in one run.
 *
 * Every command is a whole process (start-up included), timed from spawn to exit; its peak resident memory
 * comes from GNU time (`/usr/bin/time -f %M`). A command that fails fails the benchmark (an exception with
 * its exit status and the end of its stderr), never a silently shorter table. Benchmarks write nothing into
 * the repository: scratch data goes to os.tmpdir(), generated inputs worth keeping to `benchCacheDir()`.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export interface Measure {
  name: string
  /** median wall time in ms */
  wallMs: number
  /** peak resident memory in MiB (GNU time), or null when /usr/bin/time is unavailable */
  peakMiB: number | null
  runs: number
}

export interface Contender {
  name: string
  cmd: string[]
  cwd: string
  env?: Record<string, string>
}

/** The repository root (bench/..). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

const GNU_TIME = '/usr/bin/time'

/** How the medians were taken, for a table's title (BENCH_WARMUP=0 skips the warm-up round). */
export function roundsNote(runs: number): string {
  const warm = process.env.BENCH_WARMUP === '0' ? 'no warm-up' : 'after a warm-up round'
  return `median of ${runs} alternating run${runs === 1 ? '' : 's'}, ${warm}`
}

/** Prints what a figure needs beside it: the machine's load, Node's version, the CPU count. */
export function header(title: string): void {
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')
  console.log(`\n### ${title}`)
  console.log(
    `node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? 'unknown'}), load average ${load}`,
  )
}

/** Runs per contender: BENCH_RUNS when set, else `fallback`. */
export function runsFromEnv(fallback: number): number {
  const raw = process.env.BENCH_RUNS
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_RUNS must be a positive integer, got '${raw}'`)
  return n
}

/**
 * Where generated inputs and installed anchor tools are kept between runs, outside the repository:
 * DETBUILD_BENCH_CACHE, else $XDG_CACHE_HOME/detbuild-bench, else ~/.cache/detbuild-bench.
 */
export function benchCacheDir(): string {
  if (process.env.DETBUILD_BENCH_CACHE) return path.resolve(process.env.DETBUILD_BENCH_CACHE)
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache')
  return path.join(base, 'detbuild-bench')
}

/** The shipped CLI (`node bin/detbuild.js`), as `npm run build` left it; fails when it was not built. */
export function detbuildCli(): string[] {
  const bin = path.join(repoRoot, 'bin', 'detbuild.js')
  if (!existsSync(path.join(repoRoot, 'dist'))) {
    throw new Error('dist/ is missing: run `npm run build` first (`npm run bench` does)')
  }
  return [process.execPath, bin]
}

/** Fails with a message saying how to get an anchor tool when `file` is not there. */
export function requireTool(file: string, what: string, howToGet: string): string {
  if (!existsSync(file)) throw new Error(`${what} not found at ${file}: ${howToGet}`)
  return file
}

/** Runs a command once (no timing); throws when it fails. */
export function run(argv: string[], cwd: string, env?: Record<string, string>): string {
  const r = spawnSync(argv[0]!, argv.slice(1), {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 1024 * 1024 * 1024,
  })
  if (r.error) throw new Error(`${argv.join(' ')}: ${r.error.message}`)
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (exit ${r.status}): ${r.stderr.slice(-2000)}`)
  return r.stdout
}

interface Tally {
  times: number[]
  peakKiB: number
}

/** Runs one contender once under GNU time; records wall time and peak RSS. */
function once(c: Contender, withTime: boolean, tally: Tally | null): void {
  const argv = withTime ? [GNU_TIME, '-f', '__RSS_KB__=%M', ...c.cmd] : c.cmd
  const start = process.hrtime.bigint()
  const r = spawnSync(argv[0]!, argv.slice(1), {
    cwd: c.cwd,
    env: { ...process.env, ...c.env },
    encoding: 'utf8',
    maxBuffer: 1024 * 1024 * 1024,
  })
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  if (r.error) throw new Error(`${c.name}: could not run ${c.cmd[0]}: ${r.error.message}`)
  if (r.status !== 0) {
    throw new Error(
      `${c.name} failed (exit ${r.status ?? r.signal}): ${c.cmd.join(' ')}\n${r.stderr.slice(-2000)}`,
    )
  }
  const m = /__RSS_KB__=(\d+)/.exec(r.stderr)
  if (tally) {
    tally.times.push(ms)
    if (m) tally.peakKiB = Math.max(tally.peakKiB, Number(m[1]))
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

/**
 * Runs each contender `runs` times, ALTERNATING (A,B,C,A,B,C…) after one warm-up round, so a machine that
 * gets busier or quieter during the run weighs on every contender alike; median wall time and peak RSS
 * (GNU /usr/bin/time -f %M) of the measured runs.
 */
export function sideBySide(contenders: Contender[], options: { runs?: number } = {}): Measure[] {
  const runs = options.runs ?? 5
  const withTime = existsSync(GNU_TIME)
  // BENCH_WARMUP=0 skips the warm-up round (for a quick check at large sizes; figures then include cold caches)
  if (process.env.BENCH_WARMUP !== '0') for (const c of contenders) once(c, withTime, null)
  const tallies = contenders.map((): Tally => ({ times: [], peakKiB: 0 }))
  for (let r = 0; r < runs; r++) {
    for (const [i, c] of contenders.entries()) once(c, withTime, tallies[i]!)
  }
  return contenders.map((c, i) => ({
    name: c.name,
    wallMs: median(tallies[i]!.times),
    peakMiB: withTime ? tallies[i]!.peakKiB / 1024 : null,
    runs,
  }))
}

/** Prints measures as a markdown table: median, peak RSS, ratio to the first row. */
export function report(title: string, measures: Measure[]): void {
  const base = measures[0]!
  console.log(`\n${title}`)
  console.log(`| tool | runs | median wall | peak RSS | ratio to the first row |`)
  console.log('|---|---:|---:|---:|---:|')
  for (const m of measures) {
    const rss = m.peakMiB === null ? 'n/a' : `${m.peakMiB.toFixed(0)} MiB`
    console.log(
      `| ${m.name} | ${m.runs} | ${m.wallMs.toFixed(0)} ms | ${rss} | ${(m.wallMs / base.wallMs).toFixed(2)}× |`,
    )
  }
}

/** One line comparing a ratio with its goal: `met` or `MISSED`. */
export function goal(what: string, value: number, limit: number, unit = '×'): string {
  const shown = unit === '×' ? `${value.toFixed(2)}×` : `${value.toFixed(0)} ${unit}`
  const limitShown = unit === '×' ? `${limit}×` : `${limit} ${unit}`
  return `${what}: ${shown} (goal ≤ ${limitShown}: ${value <= limit ? 'met' : 'MISSED'})`
}
