/**
 * The run's clock and CPU count as Node processes see them, pure: the source of a preload that detbuild
 * writes into a run's HOME and names in NODE_OPTIONS, so every node process of the build (npm, scripts,
 * tools, and their child node processes: NODE_OPTIONS is inherited) sees a shifted `Date` and
 * `performance.timeOrigin`, and a chosen `os.cpus()` / `os.availableParallelism()` count. No optional
 * package is needed for it; libfaketime (`faketime` on PATH) is used in addition for the other processes.
 *
 * The source is a string constant (not a file shipped next to the code) because the Action is bundled
 * into one file.
 */

/** The check's second run sees a clock this far ahead: 400 days and some odd hours, minutes and seconds. */
export const CHECK_CLOCK_SHIFT_S = 400 * 86400 + 3 * 3600 + 7 * 60 + 13

/**
 * With `clock: "source-date"` the second run starts this long after SOURCE_DATE_EPOCH (1 h 1 min 1 s):
 * a slower machine, reaching the same point of the build later. Timestamps finer than about an hour
 * are caught; the day and year of SOURCE_DATE_EPOCH are what both runs see (the leak source-date hides).
 */
export const SOURCE_DATE_CHECK_LAG_S = 3661

/** A run's clock: real time moved by `offsetS` seconds (integer, so libfaketime and the preload agree). */
export interface ClockShift {
  offsetS: number
}

/** What the preload changes in a node process. */
export interface PreloadPlan {
  /** seconds added to the wall clock, or null to leave it */
  offsetS: number | null
  /** CPU count reported by os.cpus(), os.availableParallelism() and navigator.hardwareConcurrency, or null */
  cpus: number | null
}

/** The preload's file name, in the run's HOME. */
export const PRELOAD_FILE = '.detbuild-preload.cjs'

/**
 * The one place that knows where the preload lives: written into the run's HOME folder on the host
 * (`hostHome`) and named to node through the HOME value the commands get (`env.HOME`), so it keeps
 * working when the build room shows that folder at another path.
 */
export function toPreloadLocation(
  hostHome: string,
  env: Readonly<Record<string, string>>,
): { file: string; shown: string } {
  const home = env.HOME ?? hostHome
  return { file: `${hostHome}/${PRELOAD_FILE}`, shown: `${home}/${PRELOAD_FILE}` }
}

/** NODE_OPTIONS quotes values with double quotes and backslash escapes; plain paths stay bare. */
function quoteNodeOption(value: string): string {
  return /^[\w./@+:=,-]+$/.test(value) ? value : `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`
}

/**
 * The environment with the preload added to NODE_OPTIONS (after what the allowlist let through).
 * `--require` rather than `--import`: it works on every Node version a toolchain pin may name
 * (`--import` needs 18.18/20.6), and runs before the main module, CommonJS or ESM.
 */
export function withPreload(env: Readonly<Record<string, string>>, shown: string): Record<string, string> {
  const option = `--require=${quoteNodeOption(shown)}`
  const before = env.NODE_OPTIONS?.trim() ?? ''
  return { ...env, NODE_OPTIONS: before === '' ? option : `${before} ${option}` }
}

/** libfaketime's relative offset (`faketime -f <spec>`): signed whole seconds. */
export function toFaketimeSpec(shift: ClockShift): string {
  return shift.offsetS >= 0 ? `+${shift.offsetS}` : `${shift.offsetS}`
}

/** Seconds to add to real time `nowMs` so the clock reads `epochS` (SOURCE_DATE_EPOCH) plus `lagS`. */
export function toSourceDateShift(epochS: number, lagS: number, nowMs: number): ClockShift {
  return { offsetS: epochS + lagS - Math.floor(nowMs / 1000) }
}

/** "+400 d 3 h 7 min 13 s" for a report. */
export function describeShift(offsetS: number): string {
  const sign = offsetS < 0 ? '-' : '+'
  let rest = Math.abs(offsetS)
  const parts: string[] = []
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['min', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size)
    rest -= n * size
    if (n > 0) parts.push(`${n} ${unit}`)
  }
  return `${sign}${parts.length ? parts.join(' ') : '0 s'}`
}

/**
 * The preload's source (CommonJS, no dependencies, silent). It shifts `new Date()`, `Date()`, `Date.now()`,
 * `performance.timeOrigin` (so `timeOrigin + performance.now()` stays the shifted wall clock;
 * `performance.now()` and `process.hrtime()` are durations and stay as they are) and the `Intl.DateTimeFormat`
 * formatters called without a date. It does nothing to the clock when the process already runs under
 * libfaketime with a FAKETIME spec (the kernel-facing calls are shifted there: shifting again would double
 * it). Node processes it starts with an environment of their own get it added to their NODE_OPTIONS (a
 * shell command that sets NODE_OPTIONS itself drops it: libfaketime, when present, still covers those).
 * A failure inside it never breaks the build: the check's probe reports the variation as not applied.
 */
export function toPreloadSource(plan: PreloadPlan): string {
  const offsetMs = plan.offsetS === null ? 'null' : String(plan.offsetS * 1000)
  const cpus = plan.cpus === null ? 'null' : String(plan.cpus)
  return `'use strict'
// written by detbuild for one build run: shifts the clock and the CPU count node processes see
;(() => {
  const OFFSET_MS = ${offsetMs}
  const CPUS = ${cpus}
  const env = process.env
  const underFaketime = !!env.FAKETIME && /faketime/.test(env.LD_PRELOAD || '')
  try {
    if (OFFSET_MS !== null && OFFSET_MS !== 0 && !underFaketime) {
      const Real = globalThis.Date
      const realNow = Real.now
      const shifted = () => realNow() + OFFSET_MS
      const Shifted = function Date(...args) {
        if (new.target === undefined) return new Real(shifted()).toString()
        return Reflect.construct(Real, args.length === 0 ? [shifted()] : args, new.target)
      }
      Shifted.prototype = Real.prototype
      Object.defineProperty(Shifted, 'length', { value: 7 })
      for (const key of ['parse', 'UTC'])
        Object.defineProperty(Shifted, key, { value: Real[key], writable: true, configurable: true })
      Object.defineProperty(Shifted, 'now', {
        value: function now() { return shifted() },
        writable: true,
        configurable: true,
      })
      Object.defineProperty(Real.prototype, 'constructor', { value: Shifted, writable: true, configurable: true })
      Object.defineProperty(globalThis, 'Date', { value: Shifted, writable: true, configurable: true })
      const DTF = Intl.DateTimeFormat.prototype
      const format = Object.getOwnPropertyDescriptor(DTF, 'format')
      if (format && format.get) {
        const get = format.get
        Object.defineProperty(DTF, 'format', {
          get() { const f = get.call(this); return (d) => f(d === undefined ? shifted() : d) },
          configurable: true,
        })
      }
      const formatToParts = DTF.formatToParts
      DTF.formatToParts = function formatToParts(d) { return formatToParts.call(this, d === undefined ? shifted() : d) }
      const perf = globalThis.performance
      if (perf) {
        const origin = perf.timeOrigin + OFFSET_MS
        Object.defineProperty(perf, 'timeOrigin', { get: () => origin, enumerable: true, configurable: true })
      }
    }
  } catch {}
  try {
    // node processes this one starts with an environment of their own (cross-env NODE_OPTIONS=…, a tool
    // passing env: { PATH }) keep the preload: it is added to their NODE_OPTIONS
    const flag = '--require=' + (/^[\\w./@+:=,-]+$/.test(__filename) ? __filename : JSON.stringify(__filename))
    const withFlag = (v) => (typeof v === 'string' && v.includes(__filename) ? v : v ? v + ' ' + flag : flag)
    const cp = require('child_process')
    const proto = cp.ChildProcess.prototype
    const spawn = proto.spawn
    proto.spawn = function spawn_(options) {
      try {
        const pairs = options && options.envPairs
        if (Array.isArray(pairs)) {
          const i = pairs.findIndex((p) => p.startsWith('NODE_OPTIONS='))
          if (i === -1) pairs.push('NODE_OPTIONS=' + flag)
          else pairs[i] = 'NODE_OPTIONS=' + withFlag(pairs[i].slice(13))
        }
      } catch {}
      return spawn.call(this, options)
    }
    for (const name of ['spawnSync', 'execSync', 'execFileSync']) {
      const real = cp[name]
      cp[name] = function (...args) {
        try {
          const i = args.findIndex((a, n) => n > 0 && a && typeof a === 'object' && !Array.isArray(a))
          if (i !== -1 && args[i].env)
            args[i] = { ...args[i], env: { ...args[i].env, NODE_OPTIONS: withFlag(args[i].env.NODE_OPTIONS) } }
        } catch {}
        return real.apply(this, args)
      }
    }
    require('module').syncBuiltinESMExports()
  } catch {}
  try {
    if (CPUS !== null) {
      const os = require('os')
      const realCpus = os.cpus
      const idle = { model: 'cpu', speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } }
      os.cpus = function cpus() {
        const list = realCpus.call(os)
        const out = []
        for (let i = 0; i < CPUS; i++) out.push(list.length ? list[i % list.length] : idle)
        return out
      }
      os.availableParallelism = function availableParallelism() { return CPUS }
      require('module').syncBuiltinESMExports()
      const nav = globalThis.navigator
      if (nav) Object.defineProperty(nav, 'hardwareConcurrency', { get: () => CPUS, configurable: true })
    }
  } catch {}
})()
`
}

/** What the probe command prints, one value a line (see `PROBE_COMMAND`). */
export interface ProbeResult {
  /** Date.now() in a node process, ms */
  nodeNowMs: number
  /** performance.timeOrigin + performance.now() in the same process, ms */
  nodePerfMs: number
  nodeCpus: number
  nodeParallelism: number
  /** `date +%s` in the shell, s */
  shellNowS: number
  /** `nproc` */
  shellCpus: number
}

/**
 * Run as a build command would be (same environment, umask and wrappers), it shows what the commands
 * see: node's clock and CPU counts, and the shell's. detbuild compares it with the real values to say
 * which variation took effect.
 */
export const PROBE_COMMAND = `node -e 'const os = require("os"); console.log([Date.now(), performance.timeOrigin + performance.now(), os.cpus().length, typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length].join("\\n"))' && date +%s && (nproc 2>/dev/null || echo 0)`

/** Parses the probe's output, or null when it is not six numbers. */
export function parseProbe(text: string): ProbeResult | null {
  const values = text
    .trim()
    .split('\n')
    .map((l) => Number(l.trim()))
  if (values.length !== 6 || values.some((v) => !Number.isFinite(v))) return null
  const [nodeNowMs, nodePerfMs, nodeCpus, nodeParallelism, shellNowS, shellCpus] = values as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  return { nodeNowMs, nodePerfMs, nodeCpus, nodeParallelism, shellNowS, shellCpus }
}

/** A clock reading counts as shifted when it is within this of the expected time (process start-up, slow CI). */
export const CLOCK_TOLERANCE_S = 120

/** Whether a reading `seenMs` taken around real time `realMs` shows the offset `offsetS`. */
export function showsShift(seenMs: number, realMs: number, offsetS: number): boolean {
  return Math.abs(seenMs - (realMs + offsetS * 1000)) <= CLOCK_TOLERANCE_S * 1000
}
