/**
 * What `detbuild build --check` varies between its two runs, how each variation is put in place (the clock
 * and CPU preload, libfaketime, taskset, disorderfs) and whether it took effect. Edge file: it mounts file
 * systems, reads /proc and writes the preload; the report rows it produces are plain data.
 */
import { execFile } from 'node:child_process'
import { lutimes, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import type { ClockMode } from '../config/index.ts'
import { compareCodePoint } from '../util/sort.ts'
import {
  CHECK_CLOCK_SHIFT_S,
  describeShift,
  type ProbeResult,
  parseProbe,
  SOURCE_DATE_CHECK_LAG_S,
  showsShift,
  toFaketimeSpec,
  toPreloadLocation,
  toPreloadSource,
  toSourceDateShift,
  withPreload,
} from './clock-shift.ts'
import type { FixedCondition, Variation as ReportVariation } from './compare.ts'
import { isLocaleName, type Variation } from './env.ts'
import { findOnPath } from './run.ts'

const exec = promisify(execFile)

/** One of the (one or two) runs of a build, and what it changes. */
export interface RunVariant {
  label: 'first' | 'second'
  umask: number
  /** stage the files in reverse order */
  reverse: boolean
  stagingName: string
  /** environment changes (second run) */
  variation?: Variation
  /** real: real time moved by `shiftS`; source-date: a clock that starts at SOURCE_DATE_EPOCH + `shiftS` */
  clock: { from: ClockMode; shiftS: number }
  /** the CPU count the run should see, or null for the host's */
  cpus: number | null
  /** mount the staged source through disorderfs (when it is on PATH) */
  disorder: boolean
  /** what the run asks of the build room (see roomIdentityFor) */
  identity: { hostname: string; uid: number; user: string }
}

/** The host tools the check uses when present, and the CPUs this process may run on. */
export interface CheckTools {
  faketime: string | null
  taskset: string | null
  disorderfs: string | null
  fusermount: string | null
  /** CPUs available to this process (affinity-aware) */
  hostCpus: number
  /** the first CPU of this process's affinity list, for `taskset -c` */
  firstCpu: number | null
}

/** Looks the optional tools up on the host PATH. */
export async function findCheckTools(hostPath: string | undefined): Promise<CheckTools> {
  const [faketime, taskset, disorderfs, fusermount, fusermount3, firstCpu] = await Promise.all([
    findOnPath('faketime', hostPath),
    findOnPath('taskset', hostPath),
    findOnPath('disorderfs', hostPath),
    findOnPath('fusermount', hostPath),
    findOnPath('fusermount3', hostPath),
    readFirstCpu(),
  ])
  return {
    faketime,
    taskset,
    disorderfs,
    fusermount: fusermount ?? fusermount3,
    hostCpus: os.availableParallelism(),
    firstCpu,
  }
}

/** The first CPU this process may run on (Linux `Cpus_allowed_list`), or null. */
async function readFirstCpu(): Promise<number | null> {
  try {
    const status = await readFile('/proc/self/status', 'utf8')
    const m = /^Cpus_allowed_list:\s*(\d+)/m.exec(status)
    return m ? Number(m[1]) : null
  } catch {
    return null
  }
}

const SECOND_TZ = ['Pacific/Kiritimati', 'America/St_Johns'] as const
const SECOND_LOCALE = ['fr_CH.UTF-8', 'tr_TR.UTF-8'] as const

/**
 * The runs of a build: one, or with `check` a second that changes everything two honest builds on two
 * machines could differ in. TZ and locale names are varied only when the config's `env` lets them through
 * (otherwise detbuild fixes them in every build, so they cannot differ).
 */
export function planVariants(input: {
  check: boolean
  clock: ClockMode
  allowlist: readonly string[]
  hostEnv: NodeJS.ProcessEnv
  hostCpus: number
}): RunVariant[] {
  const first: RunVariant = {
    label: 'first',
    umask: 0o022,
    reverse: false,
    stagingName: 'src',
    clock: { from: input.clock, shiftS: 0 },
    cpus: null,
    disorder: false,
    identity: { hostname: 'detbuild', uid: 1000, user: 'builder' },
  }
  if (!input.check) return [first]
  const passed: Record<string, string> = {}
  const allowed = new Set(input.allowlist)
  if (allowed.has('TZ')) {
    const now = input.hostEnv.TZ ?? 'UTC'
    passed.TZ = now === SECOND_TZ[0] ? SECOND_TZ[1] : SECOND_TZ[0]
  }
  for (const name of [...allowed].filter(isLocaleName).sort(compareCodePoint)) {
    const now = input.hostEnv[name] ?? 'C.UTF-8'
    passed[name] = now === SECOND_LOCALE[0] ? SECOND_LOCALE[1] : SECOND_LOCALE[0]
  }
  return [
    first,
    {
      label: 'second',
      umask: 0o077,
      reverse: true,
      stagingName: 'a-different-and-much-longer-staging-folder/src',
      variation: {
        passed,
        noise: { DETBUILD_CHECK_NOISE: 'reprotest-style noise', CAPTURE_ENVIRONMENT: '1', COLUMNS: '37' },
      },
      clock: {
        from: input.clock,
        shiftS: input.clock === 'source-date' ? SOURCE_DATE_CHECK_LAG_S : CHECK_CLOCK_SHIFT_S,
      },
      // fewer CPUs where there are several (taskset), more where there is one (node's view only)
      cpus: input.hostCpus >= 2 ? 1 : 2,
      disorder: true,
      identity: { hostname: 'detbuild-check', uid: 2345, user: 'checker' },
    },
  ]
}

/**
 * The identity (hostname, user id and name) a run asks of the build room. Only a sealed room sets them
 * (its own UTS namespace, a uid mapped in its user namespace, a generated /etc/passwd); unsealed, the
 * commands run with the host's hostname and user, so neither is varied, and the report says so.
 */
export function roomIdentityFor(
  variant: RunVariant,
  sealed: boolean,
): {
  options: { hostname: string; uid: number; user: string }
  applied: boolean
  note: string | null
} {
  return {
    options: { ...variant.identity },
    applied: sealed,
    note: sealed ? null : 'the build ran unsealed (no build room): both runs had the host’s',
  }
}

/** What held in one run: the probe's readings and which mechanisms were in place. */
export interface RunFacts {
  /** seconds the run's clock was moved by (null: real time) */
  offsetS: number | null
  /** the preload in NODE_OPTIONS, or why not */
  preload: boolean
  preloadNote: string | null
  faketime: boolean
  taskset: string | null
  /** the probe's readings and the real time around them, or null when not probed */
  probe: { result: ProbeResult; realMs: number } | null
  probeNote: string | null
  disorderfs: boolean
  disorderfsNote: string | null
}

/** What a run's commands get: the environment (with the preload) and the argv wrappers. */
export interface ShapedRun {
  env: Record<string, string>
  faketime: { bin: string; offset: string } | null
  taskset: { bin: string; cpus: string } | null
  facts: RunFacts
}

/**
 * Puts a run's clock and CPU count in place: writes the preload into the run's HOME (named in
 * NODE_OPTIONS), picks libfaketime and taskset when present, then runs the probe the way the commands
 * run (`runProbe`) to see what took effect. A preload that breaks node (e.g. a toolchain that refuses the
 * option) is taken out again, and the run goes on without it: the report says the variation did not apply.
 */
export async function shapeRun(input: {
  variant: RunVariant
  env: Record<string, string>
  hostHome: string
  tools: CheckTools
  sourceDateEpoch: number
  probe: boolean
  runProbe: (
    env: Record<string, string>,
    wrappers: Pick<ShapedRun, 'faketime' | 'taskset'>,
  ) => Promise<{ code: number; output: string }>
}): Promise<ShapedRun> {
  const { variant, tools } = input
  const offsetS =
    variant.clock.from === 'source-date'
      ? toSourceDateShift(input.sourceDateEpoch, variant.clock.shiftS, Date.now()).offsetS
      : variant.clock.shiftS
  const shift = offsetS === 0 ? null : offsetS
  const facts: RunFacts = {
    offsetS: shift,
    preload: false,
    preloadNote: null,
    faketime: false,
    taskset: null,
    probe: null,
    probeNote: null,
    disorderfs: false,
    disorderfsNote: null,
  }
  let env = input.env
  const where = toPreloadLocation(input.hostHome, env)
  if (shift !== null || variant.cpus !== null) {
    await writeFile(where.file, toPreloadSource({ offsetS: shift, cpus: variant.cpus }))
    env = withPreload(env, where.shown)
    facts.preload = true
  }
  const faketime =
    shift !== null && tools.faketime
      ? { bin: tools.faketime, offset: toFaketimeSpec({ offsetS: shift }) }
      : null
  facts.faketime = faketime !== null
  const taskset =
    variant.cpus !== null && variant.cpus < tools.hostCpus && tools.taskset && tools.firstCpu !== null
      ? { bin: tools.taskset, cpus: String(tools.firstCpu) }
      : null
  facts.taskset = taskset?.cpus ?? null
  if (!input.probe) return { env, faketime, taskset, facts }
  const probe = async (e: Record<string, string>) => {
    const before = Date.now()
    const r = await input.runProbe(e, { faketime, taskset })
    const realMs = Math.round((before + Date.now()) / 2)
    const result = r.code === 0 ? parseProbe(r.output) : null
    return { result, realMs, output: r.output }
  }
  let seen = await probe(env)
  if (seen.result === null && facts.preload) {
    // node refused the preload: the run goes on without it (and the report says so)
    const first = seen.output.split('\n').find((l) => l.trim() !== '') ?? 'no output'
    env = { ...input.env }
    await rm(where.file, { force: true })
    facts.preload = false
    facts.preloadNote = `node failed with the preload in NODE_OPTIONS: ${first.trim().slice(0, 160)}`
    seen = await probe(env)
  }
  if (seen.result) facts.probe = { result: seen.result, realMs: seen.realMs }
  else facts.probeNote = 'the probe command failed: what took effect is unknown'
  return { env, faketime, taskset, facts }
}

/**
 * Mounts the staged source through disorderfs (shuffled and reversed directory listings) at the same
 * path. `release` unmounts it (lazily when busy); it must run whatever happens to the build, and is safe
 * to call twice. Without disorderfs, or when it cannot mount, the folder is left as it was.
 */
export async function mountDisorderfs(
  stageDir: string,
  tools: CheckTools,
): Promise<{ mounted: boolean; note: string | null; release: () => Promise<void> }> {
  const none = async () => {}
  if (!tools.disorderfs || !tools.fusermount)
    return {
      mounted: false,
      note: tools.disorderfs ? 'fusermount is not on PATH' : 'disorderfs is not on PATH',
      release: none,
    }
  const base = path.join(path.dirname(stageDir), `.${path.basename(stageDir)}-disorder-base`)
  await rename(stageDir, base)
  await mkdir(stageDir)
  const restore = async (note: string) => {
    await rm(stageDir, { recursive: true, force: true })
    await rename(base, stageDir)
    return { mounted: false, note, release: none }
  }
  try {
    await exec(tools.disorderfs, ['--shuffle-dirents=yes', '--reverse-dirents=yes', base, stageDir], {
      timeout: 20_000,
    })
  } catch (e) {
    const err = e as { stderr?: string; message: string }
    const line = (err.stderr ?? err.message).split('\n').find((l) => l.trim() !== '') ?? err.message
    return restore(`disorderfs could not mount: ${line.trim().slice(0, 160)}`)
  }
  const fusermount = tools.fusermount
  let released = false
  const release = async () => {
    if (released) return
    released = true
    try {
      await exec(fusermount, ['-u', stageDir], { timeout: 20_000 })
    } catch {
      // a process of the build still holds it: detach it now, the kernel finishes when it lets go
      await exec(fusermount, ['-u', '-z', stageDir], { timeout: 20_000 }).catch(() => {})
    }
  }
  const [under, over] = await Promise.all([stat(base), stat(stageDir)])
  if (under.dev === over.dev) {
    await release()
    return restore('disorderfs did not mount')
  }
  return { mounted: true, note: null, release }
}

/**
 * Moves the staged files' modification times by the run's clock shift: on another machine the checkout is
 * written at another time, and a build that embeds a source file's time (a "last modified" stamp) must
 * differ between the runs even where no libfaketime shifts what `stat` reports.
 */
export async function shiftSourceTimes(
  stageDir: string,
  files: readonly { path: string }[],
  shiftS: number,
  nowMs: number,
): Promise<void> {
  const t = nowMs / 1000 + shiftS
  for (let i = 0; i < files.length; i += 64)
    await Promise.all(
      files.slice(i, i + 64).map((f) => lutimes(path.join(stageDir, f.path), t, t).catch(() => {})),
    )
}

/**
 * Whether this file system lists a folder in creation order (then staging in reverse order changes what
 * readdir returns) or in an order of its own (hashed, as ext4 does: then reversing has no effect).
 */
export async function probeCreationOrder(dir: string): Promise<boolean> {
  const names = Array.from({ length: 12 }, (_, i) => `f${i}`)
  const a = path.join(dir, 'order-probe-a')
  const b = path.join(dir, 'order-probe-b')
  try {
    await Promise.all([mkdir(a), mkdir(b)])
    for (const n of names) await writeFile(path.join(a, n), '')
    for (const n of [...names].reverse()) await writeFile(path.join(b, n), '')
    const [la, lb] = await Promise.all([readdir(a), readdir(b)])
    return la.join('/') !== lb.join('/')
  } catch {
    return false
  } finally {
    await Promise.all([rm(a, { recursive: true, force: true }), rm(b, { recursive: true, force: true })])
  }
}

/** Whether a run's node processes saw its clock shift (and its performance.timeOrigin with it). */
export function nodeClockHeld(f: RunFacts): boolean {
  if (f.offsetS === null) return true
  if (!f.probe) return false
  const { result, realMs } = f.probe
  return showsShift(result.nodeNowMs, realMs, f.offsetS) && showsShift(result.nodePerfMs, realMs, f.offsetS)
}

/** Whether a run's other processes (`date`) saw its clock shift. */
function shellClockHeld(f: RunFacts): boolean {
  if (f.offsetS === null) return true
  if (!f.probe) return false
  return showsShift(f.probe.result.shellNowS * 1000, f.probe.realMs, f.offsetS)
}

/**
 * The report's rows: every variation with whether it took effect (and why not), and the conditions
 * detbuild holds the same in every build. `facts` are the runs' (first, second).
 */
export function describeVariations(input: {
  variants: readonly RunVariant[]
  facts: readonly RunFacts[]
  tools: CheckTools
  allowlist: readonly string[]
  hostEnv: NodeJS.ProcessEnv
  network: 'deny' | 'allow'
  creationOrderMatters: boolean
  /** the commands ran in the sealed build room (which sets the hostname and user) */
  sealed: boolean
}): { variations: ReportVariation[]; fixed: FixedCondition[] } {
  const [a, b] = input.variants as [RunVariant, RunVariant]
  const [fa, fb] = input.facts as [RunFacts, RunFacts]
  const v = b.variation as Variation
  const rows: ReportVariation[] = []
  const fixed: FixedCondition[] = []
  rows.push({
    name: 'checkout path',
    applied: true,
    first: `<tmp>/${a.stagingName}`,
    second: `<tmp>/${b.stagingName}`,
    // the room mounts either folder at the same fixed path: the build cannot see the host's
    ...(input.sealed ? { note: 'on the host; inside the build room both runs see /build/src' } : {}),
  })
  rows.push({ name: 'umask', applied: true, first: '022', second: '077' })
  rows.push({
    name: 'source file times',
    applied: true,
    first: 'when staged',
    second: `when staged ${describeShift(b.clock.shiftS)}`,
  })

  // the clock: node processes through the preload, other processes through libfaketime
  const sourceDate = a.clock.from === 'source-date'
  const firstClock = sourceDate ? 'starts at SOURCE_DATE_EPOCH' : 'real time'
  const secondClock = sourceDate
    ? `starts at SOURCE_DATE_EPOCH ${describeShift(b.clock.shiftS)} (a slower machine)`
    : `real time ${describeShift(b.clock.shiftS)}`
  const nodeHeld = nodeClockHeld(fa) && nodeClockHeld(fb)
  rows.push({
    name: 'clock (node processes)',
    applied: nodeHeld,
    first: firstClock,
    second: secondClock,
    ...(nodeHeld
      ? { note: 'NODE_OPTIONS preload: Date, performance.timeOrigin, Intl formatters' }
      : {
          note:
            fb.preloadNote ??
            fa.preloadNote ??
            fb.probeNote ??
            fa.probeNote ??
            'the probe did not see the shift',
        }),
  })
  const shellHeld = fb.faketime && shellClockHeld(fa) && shellClockHeld(fb)
  rows.push({
    name: 'clock (other processes)',
    applied: shellHeld,
    first: firstClock,
    second: secondClock,
    note: !input.tools.faketime
      ? 'faketime is not on PATH (Debian package faketime): only node processes saw the shifted clock'
      : !shellHeld
        ? 'libfaketime did not shift `date` in the probe'
        : input.network === 'allow'
          ? 'libfaketime; not during install (network allowed: TLS needs the real time)'
          : 'libfaketime',
  })

  // CPU count: taskset for every process where there are CPUs to take away, the preload for node
  const target = b.cpus
  const baseNode = fa.probe?.result.nodeCpus
  const baseShell = fa.probe?.result.shellCpus
  const nodeCpus = fb.probe?.result
  const nodeCpuHeld =
    target !== null &&
    nodeCpus !== undefined &&
    nodeCpus.nodeCpus === target &&
    nodeCpus.nodeParallelism === target &&
    baseNode !== target
  rows.push({
    name: 'CPU count (node processes)',
    applied: nodeCpuHeld,
    first: baseNode === undefined ? 'the host’s' : String(baseNode),
    second: String(target),
    note: nodeCpuHeld
      ? 'NODE_OPTIONS preload: os.cpus(), os.availableParallelism(), navigator.hardwareConcurrency'
      : (fb.preloadNote ?? fb.probeNote ?? 'the probe did not see the count'),
  })
  const shellCpuHeld =
    fb.taskset !== null && nodeCpus !== undefined && nodeCpus.shellCpus === target && baseShell !== target
  rows.push({
    name: 'CPU count (other processes)',
    applied: shellCpuHeld,
    first: baseShell === undefined ? 'the host’s' : String(baseShell),
    second: fb.taskset !== null ? `${target} (taskset -c ${fb.taskset})` : String(baseShell ?? 'the host’s'),
    note: shellCpuHeld
      ? 'taskset'
      : input.tools.hostCpus < 2
        ? 'one CPU: there is none to take away'
        : !input.tools.taskset
          ? 'taskset is not on PATH (util-linux)'
          : 'taskset did not change nproc in the probe',
  })

  // file order
  rows.push(
    fb.disorderfs
      ? {
          name: 'file order',
          applied: true,
          first: 'as the file system lists it',
          second: 'disorderfs --shuffle-dirents=yes --reverse-dirents=yes',
          note: 'staged files also created in reverse order',
        }
      : {
          name: 'file order',
          applied: input.creationOrderMatters,
          first: 'files staged in sorted order',
          second: 'files staged in reverse order',
          note: input.creationOrderMatters
            ? `this file system lists by creation, so readdir order differs (${fb.disorderfsNote ?? 'disorderfs not used'})`
            : `this file system does not list by creation: reversing it had no effect (${fb.disorderfsNote ?? 'disorderfs not used'})`,
        },
  )

  // the environment
  rows.push({
    name: 'extra environment',
    applied: true,
    first: '(none)',
    second: Object.keys(v.noise).sort(compareCodePoint).join(', '),
  })
  const passed = Object.keys(v.passed).sort(compareCodePoint)
  for (const name of passed)
    rows.push({
      name,
      applied: true,
      first: input.hostEnv[name] ?? (name === 'TZ' ? 'UTC' : name === 'LANG' ? 'C.UTF-8' : '(unset)'),
      second: v.passed[name] as string,
      note: 'passed through by the config’s env allowlist',
    })
  if (!input.allowlist.includes('TZ'))
    fixed.push({
      name: 'TZ',
      value: 'UTC',
      why: 'not in the config’s env allowlist: the same in every build',
    })
  if (!input.allowlist.some(isLocaleName))
    fixed.push({
      name: 'locale (LC_ALL, LANG)',
      value: 'C.UTF-8',
      why: 'not in the config’s env allowlist: the same in every build',
    })

  // what only the build room can change
  const ia = roomIdentityFor(a, input.sealed)
  const ib = roomIdentityFor(b, input.sealed)
  const identityHeld = ia.applied && ib.applied
  rows.push({
    name: 'hostname',
    applied: identityHeld,
    // until the room applies them, both runs had the host's
    first: identityHeld ? a.identity.hostname : 'the host’s',
    second: identityHeld ? b.identity.hostname : 'the host’s',
    ...(identityHeld || ib.note === null ? {} : { note: ib.note }),
  })
  rows.push({
    name: 'user id and name',
    applied: identityHeld,
    first: identityHeld ? `${a.identity.uid} (${a.identity.user})` : 'the host’s',
    second: identityHeld ? `${b.identity.uid} (${b.identity.user})` : 'the host’s',
    ...(identityHeld || ib.note === null ? {} : { note: ib.note }),
  })
  return { variations: rows, fixed }
}
