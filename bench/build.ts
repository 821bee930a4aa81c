/**
 * Benchmark: `detbuild build` against running the same install + build commands by hand, in the same
 * environment (the scrubbed one detbuild gives its commands: fresh HOME and TMPDIR, TZ, locale, the
 * same npm cache, offline), with the system node and a warm cache. Three scenarios: build only (tsc +
 * npm pack) and install + build (npm ci + tsc + npm pack) of the ts-lib fixture, and install + build
 * of bench/fixtures/no-resolved-app (347 packages, a lockfile without `resolved` URLs, fetched from
 * the real registry by the warm-up; DETBUILD_BENCH_ONLY=<part of a name> runs one). Each side is
 * a whole process, detbuild's own start-up included: the shipped CLI, bin/detbuild.js after
 * `npm run build` (scratch projects and homes live in os.tmpdir(), nothing is written into the
 * repository). One warm-up
 * of each (detbuild's fills the npm cache), then N rounds that alternate which side goes first, so a
 * machine that gets busier or quieter during the run weighs on both; medians are compared. Target
 * (issue #3): overhead under 10% or 1 s, whichever is larger.
 * Run: node bench/build.ts [runs]   (or BENCH_RUNS; default 5)
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { toBuildEnv } from '../src/builder/env.ts'
import { findOnPath } from '../src/builder/run.ts'
import { DEFAULT_REGISTRY } from '../src/config/build-env.ts'
import { resolveCacheRoot } from '../src/config/index.ts'
import { detbuildCli, header, type Measure, report, runsFromEnv } from './lib.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')
const runs = process.argv[2] ? Number(process.argv[2]) : runsFromEnv(5)
const work = mkdtempSync(path.join(os.tmpdir(), 'detbuild-bench-'))

interface Scenario {
  name: string
  /** the project: a fixture folder (fixtures/ or bench/fixtures/) */
  fixture: string
  install: string[]
  build: string[]
  outputs: string[]
}

const scenarios: Scenario[] = [
  {
    name: 'build only: tsc + npm pack',
    fixture: 'fixtures/ts-lib',
    install: [],
    build: ['node "$DETBUILD_TSC" -p tsconfig.json', 'npm pack --pack-destination dist'],
    outputs: ['dist/*.tgz'],
  },
  {
    name: 'install + build: npm ci + tsc + npm pack',
    fixture: 'fixtures/ts-lib',
    install: ['npm ci --ignore-scripts'],
    build: ['npm run build', 'npm pack --pack-destination dist'],
    outputs: ['dist/*.tgz'],
  },
  {
    // 347 packages from the real registry, a lockfile without `resolved` URLs: every package is found
    // in the npm cache by its integrity and its packument, as npm ci --offline reads them
    name: 'no resolved URLs, 347 packages: npm ci + babel',
    fixture: 'bench/fixtures/no-resolved-app',
    install: ['npm ci --ignore-scripts'],
    build: ['npm run build'],
    outputs: ['dist/index.js'],
  },
]

/** A scenario's fixture committed to a fresh repository, with its config. */
function makeProject(s: Scenario, i: number): string {
  const dir = path.join(work, `project-${i}`)
  cpSync(path.join(root, s.fixture), dir, {
    recursive: true,
    filter: (src) => !/[/\\](\.detbuild|node_modules|dist)([/\\]|$)/.test(src),
  })
  writeFileSync(
    path.join(dir, 'detbuild.bench.json'),
    JSON.stringify({
      toolchain: { node: 'system' },
      install: s.install,
      build: s.build,
      outputs: s.outputs,
      env: ['DETBUILD_TSC'],
      network: 'deny',
    }),
  )
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@example.test', ...args], {
      cwd: dir,
      stdio: 'ignore',
      env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' },
    })
  git('init', '-q')
  git('add', '-A')
  git('commit', '-qm', 'bench')
  return dir
}

/** The environment detbuild gives the commands (same cache, same PATH order, same fixed values). */
async function handEnv(): Promise<Record<string, string>> {
  const home = path.join(work, 'home')
  const tmp = path.join(work, 'tmp')
  mkdirSync(home)
  mkdirSync(tmp)
  const npm = await findOnPath('npm', process.env.PATH)
  return toBuildEnv({
    hostEnv: { DETBUILD_TSC: tsc },
    allowlist: ['DETBUILD_TSC'],
    home,
    tmp,
    pathDirs: [path.dirname(realpathSync(process.execPath)), ...(npm ? [path.dirname(npm)] : [])],
    sourceDateEpoch: 1700000000,
    npmCache: path.join(resolveCacheRoot(process.env, root), 'npm'),
    registry: process.env.npm_config_registry ?? DEFAULT_REGISTRY,
    offline: true,
  })
}

interface Side {
  name: string
  argv: string[]
  env: NodeJS.ProcessEnv
  times: number[]
  peakKiB: number
}

const GNU_TIME = '/usr/bin/time'

/** Runs one side once (under GNU time for the peak memory when it is there) and records its wall time. */
function time(side: Side, cwd: string): void {
  const withTime = existsSync(GNU_TIME)
  const argv = withTime ? [GNU_TIME, '-f', '__RSS_KB__=%M', ...side.argv] : side.argv
  const start = process.hrtime.bigint()
  const r = spawnSync(argv[0] as string, argv.slice(1), {
    cwd,
    env: side.env,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  })
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  if (r.status !== 0) throw new Error(`${side.name} failed (${r.status}): ${r.stderr.slice(-2000)}`)
  const m = /__RSS_KB__=(\d+)/.exec(r.stderr)
  if (m) side.peakKiB = Math.max(side.peakKiB, Number(m[1]))
  side.times.push(ms)
}

function toMeasure(side: Side): Measure {
  const sorted = [...side.times].sort((a, b) => a - b)
  return {
    name: side.name,
    wallMs: sorted[Math.floor(sorted.length / 2)] as number,
    peakMiB: existsSync(GNU_TIME) ? side.peakKiB / 1024 : null,
    runs: sorted.length,
  }
}

try {
  const env = await handEnv()
  const detbuild = detbuildCli()[1]!
  header('build: detbuild build vs the same commands by hand')
  const rows: string[] = [
    `load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  ]
  const only = process.env.DETBUILD_BENCH_ONLY
  for (const [i, s] of scenarios.entries()) {
    if (only && !s.name.includes(only)) continue
    const project = makeProject(s, i)
    const ours: Side = {
      name: 'detbuild build',
      argv: [process.execPath, detbuild, 'build', '--config', 'detbuild.bench.json', '--quiet'],
      // the build room sees the typescript package read-only, at its own path
      env: { ...process.env, DETBUILD_TSC: tsc, DETBUILD_ROOM_MOUNTS: path.dirname(path.dirname(tsc)) },
      times: [],
      peakKiB: 0,
    }
    const script = ['set -e', 'umask 022', 'rm -rf dist node_modules', ...s.install, ...s.build].join('\n')
    // by hand: the same commands in the same environment, nothing else (not even process.env)
    const hand: Side = {
      name: 'same commands by hand',
      argv: ['/bin/sh', '-c', script],
      env,
      times: [],
      peakKiB: 0,
    }
    // warm-up: detbuild first, its prefetch fills the npm cache the offline `npm ci` by hand reads
    time(ours, project)
    time(hand, project)
    ours.times = []
    hand.times = []
    for (let r = 0; r < runs; r++) {
      for (const side of r % 2 === 0 ? [ours, hand] : [hand, ours]) time(side, project)
    }
    const [a, b] = [toMeasure(ours), toMeasure(hand)]
    report(`${s.name} (median of ${runs} alternating rounds after a warm-up)`, [a, b])
    for (const side of [ours, hand])
      console.log(`${side.name}, every run (ms): ${side.times.map((t) => t.toFixed(0)).join(' ')}`)
    rows.push(verdict(s.name, a, b, pairedOverhead(ours, hand)))
  }
  rows.push(
    `load average at end: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )
  console.log('')
  for (const r of rows) console.log(r)
} finally {
  rmSync(work, { recursive: true, force: true })
}

/** Median of the per-round differences: the two runs of a round share the machine's load of the moment. */
function pairedOverhead(ours: Side, hand: Side): number {
  const diffs = ours.times.map((t, i) => t - (hand.times[i] as number)).sort((a, b) => a - b)
  return diffs[Math.floor(diffs.length / 2)] as number
}

function verdict(name: string, ours: Measure, hand: Measure, paired: number): string {
  const overhead = ours.wallMs - hand.wallMs
  const allowed = Math.max(hand.wallMs * 0.1, 1000)
  const ok = overhead < allowed && paired < allowed
  return [
    `${name}: detbuild ${ours.wallMs.toFixed(0)} ms, by hand ${hand.wallMs.toFixed(0)} ms,`,
    `ratio ${(ours.wallMs / hand.wallMs).toFixed(2)}×, overhead ${overhead.toFixed(0)} ms`,
    `(median of paired rounds ${paired.toFixed(0)} ms; target < ${allowed.toFixed(0)} ms: ${ok ? 'met' : 'MISSED'})`,
  ].join(' ')
}
