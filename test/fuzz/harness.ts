/**
 * The fuzz suite's runner: seeded fast-check properties over in-process CLI runs, with the invariants
 * every command owes hostile input. CI runs each property a bounded number of times; `npm run fuzz`
 * (FUZZ_RUNS=n) runs more. FUZZ_SEED replays a run; FUZZ_SHRINK=1 shrinks a failure to a smaller input;
 * FUZZ_COLLECT=<file> records every failure instead of stopping; FUZZ_SLOW=<ms> names slow inputs;
 * FUZZ_PATH=<path> (with the seed) replays exactly the case a failure reported.
 */
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { type CliResult, cli } from '../helpers/cli.ts'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const fixture = (...parts: string[]) => path.join(ROOT, 'fixtures', ...parts)
export const OSV_RECORDS = fixture('osv', 'records')

/** Fixed unless FUZZ_SEED says otherwise; printed with every failure. */
export const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 0x11f22

/** Runs per property: FUZZ_RUNS when set (`npm run fuzz`), else the property's CI budget. */
export function runs(ci: number): number {
  const n = Number(process.env.FUZZ_RUNS)
  return Number.isInteger(n) && n > 0 ? n : ci
}

/** A command's exit codes for hostile input: success, no, bad input, incomplete. Never 70. */
export const ALLOWED_EXITS: readonly number[] = [0, 1, 2, 3]

const STACK_LINE = /^\s*at\s+(?:async\s+)?\S.*(?:\(.*:\d+:\d+\)|:\d+:\d+)\s*$/m

/** Why a run broke the fail-closed contract, or undefined when it did not. */
export function contractBreach(r: CliResult): string | undefined {
  if (!ALLOWED_EXITS.includes(r.code)) return `exit ${r.code}`
  for (const [name, text] of [
    ['stderr', r.stderr],
    ['stdout', r.stdout],
  ] as const) {
    if (STACK_LINE.test(text)) return `stack trace on ${name}`
    if (/INTERNAL_ERROR|this is a bug in detbuild/.test(text)) return `internal error on ${name}`
  }
  return undefined
}

/** The first line of what the command said, for failure messages. */
export function said(r: CliResult): string {
  const line = (r.stderr.split('\n').find((l) => l.trim() !== '') ?? r.stdout.split('\n')[0] ?? '').trim()
  return line.length > 300 ? `${line.slice(0, 300)}…` : line
}

export class PropertyBreach extends Error {}

/**
 * Throws (fails the property) with a reproducer: the command line, the mutation, what the command said.
 * With FUZZ_COLLECT=<file> it appends the breach to that file and lets the run go on instead, to list
 * every failing class in one pass.
 */
export function breach(
  what: string,
  argv: readonly string[],
  mutation: string,
  r?: CliResult,
): never | undefined {
  const line = `${what}: detbuild ${argv.join(' ')} — input: ${mutation.slice(0, 400)}${r ? ` — exit ${r.code}: ${said(r)}` : ''} (seed ${SEED})`
  if (process.env.FUZZ_COLLECT) {
    appendFileSync(
      process.env.FUZZ_COLLECT,
      `${JSON.stringify({ what, argv, mutation: mutation.slice(0, 2000), code: r?.code, said: r ? said(r) : '' })}\n`,
    )
    return undefined
  }
  throw new PropertyBreach(line)
}

/** Runs the CLI in-process and checks the exit/stack contract. */
export async function runChecked(
  argv: string[],
  cwd: string,
  mutation: string,
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  const started = performance.now()
  // a library printing its own warnings (YAMLWarning via process.emitWarning) goes around detbuild's
  // logger straight to the user's stderr; Node's own deprecation and experimental notices are not input
  const warnings: string[] = []
  const onWarning = (w: Error) => {
    if (w.name !== 'DeprecationWarning' && w.name !== 'ExperimentalWarning')
      warnings.push(`${w.name}: ${w.message}`)
  }
  process.on('warning', onWarning)
  let r: CliResult
  try {
    r = await cli(argv, { cwd, env: { PATH: process.env.PATH, HOME: cwd, ...env } })
    // emitWarning delivers on the next tick
    await new Promise((resolve) => setImmediate(resolve))
  } finally {
    process.off('warning', onWarning)
  }
  // FUZZ_SLOW=<ms>: name the inputs that take long (a budget hog, or a slow path worth a look)
  const ms = performance.now() - started
  if (Number(process.env.FUZZ_SLOW) > 0 && ms > Number(process.env.FUZZ_SLOW))
    process.stderr.write(
      `slow (${Math.round(ms)} ms): detbuild ${argv.join(' ')} — ${mutation.slice(0, 200)}\n`,
    )
  const why =
    contractBreach(r) ??
    (warnings.length > 0 ? `a library wrote to stderr itself: ${warnings[0]!.slice(0, 200)}` : undefined)
  if (why) breach(why, argv, mutation, r)
  return r
}

/** fast-check's options for every property: seeded, bounded, a hang is a failure. */
export function options(ciRuns: number): fc.Parameters<unknown> {
  return {
    seed: SEED,
    numRuns: runs(ciRuns),
    timeout: 30_000,
    endOnFailure: process.env.FUZZ_SHRINK !== '1',
    // FUZZ_PATH (with FUZZ_SEED): replay the one case a failure printed as `path`
    ...(process.env.FUZZ_PATH ? { path: process.env.FUZZ_PATH } : {}),
  }
}

/** Runs one property with the suite's options. */
export async function check<T>(
  ciRuns: number,
  arb: fc.Arbitrary<T>,
  body: (value: T) => Promise<void>,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(arb, async (v) => {
      await body(v)
    }),
    options(ciRuns) as fc.Parameters<[T]>,
  )
}

/** A scratch folder holding a copy of `from` (a fixture folder), removed by `dispose`. */
export function scratch(from?: string): { dir: string; dispose: () => void } {
  const base = mkdtempSync(path.join(os.tmpdir(), 'detbuild-fuzz-'))
  const dir = path.join(base, 'p')
  if (from) cpSync(from, dir, { recursive: true, filter: (s) => !s.split(path.sep).includes('.detbuild') })
  else mkdirSync(dir, { recursive: true })
  return { dir, dispose: () => rmSync(base, { recursive: true, force: true }) }
}
