// How the check's second run is shaped (check-variants.ts), without a build: a preload that node cannot
// load is taken out again and the clock is reported as not varied (never claimed); the CPU count and the
// TZ/locale variations follow the host and the config.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import {
  type CheckTools,
  describeVariations,
  planVariants,
  type RunFacts,
  shapeRun,
} from '../../src/builder/check-variants.ts'
import { PROBE_COMMAND } from '../../src/builder/clock-shift.ts'
import { toBuildEnv } from '../../src/builder/env.ts'

const tmp = mkdtempSync(path.join(os.tmpdir(), 'detbuild-variants-test-'))
after(() => rmSync(tmp, { recursive: true, force: true }))

const noTools: CheckTools = {
  faketime: null,
  taskset: null,
  disorderfs: null,
  fusermount: null,
  hostCpus: 4,
  firstCpu: 0,
}

/** Runs the probe as runShell would, in a plain shell. */
function runProbe(env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', PROBE_COMMAND], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (c) => (output += c))
    child.stderr.setEncoding('utf8').on('data', (c) => (output += c))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? 1, output }))
  })
}

const envFor = (home: string) => ({
  HOME: home,
  PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`,
  TZ: 'UTC',
})

test('a preload node cannot load is taken out again, and the clock is reported as not varied', async () => {
  const [first, second] = planVariants({
    check: true,
    clock: 'real',
    allowlist: [],
    hostEnv: {},
    hostCpus: 4,
  })
  assert.ok(first && second)
  const homeA = path.join(tmp, 'a')
  const homeB = path.join(tmp, 'b')
  mkdirSync(homeA)
  mkdirSync(homeB)
  const shapedA = await shapeRun({
    variant: first,
    env: envFor(homeA),
    hostHome: homeA,
    tools: noTools,
    sourceDateEpoch: 1700000000,
    probe: true,
    runProbe,
  })
  assert.equal(shapedA.facts.preload, false, 'the first run of a real-clock check needs no preload')
  assert.deepEqual(readdirSync(homeA), [])
  // the room shows HOME somewhere node cannot find the file: node refuses to start with the preload
  const shapedB = await shapeRun({
    variant: second,
    env: { ...envFor(homeB), HOME: path.join(tmp, 'not-there') },
    hostHome: homeB,
    tools: noTools,
    sourceDateEpoch: 1700000000,
    probe: true,
    runProbe,
  })
  assert.equal(shapedB.facts.preload, false)
  assert.match(shapedB.facts.preloadNote ?? '', /^node failed with the preload in NODE_OPTIONS: /)
  assert.equal(shapedB.env.NODE_OPTIONS, undefined, 'the run goes on without it')
  assert.deepEqual(readdirSync(homeB), [], 'and its HOME holds nothing of it')
  assert.ok(shapedB.facts.probe, 'the probe ran again without the preload')
  const facts: RunFacts[] = [shapedA.facts, shapedB.facts]
  const { variations } = describeVariations({
    variants: [first, second],
    facts,
    tools: noTools,
    allowlist: [],
    hostEnv: {},
    network: 'deny',
    creationOrderMatters: false,
    sealed: false,
  })
  const byName = new Map(variations.map((v) => [v.name, v]))
  // unsealed, nothing sets the hostname or user: reported as not varied, with why
  assert.equal(byName.get('hostname')?.applied, false)
  assert.match(byName.get('user id and name')?.note ?? '', /unsealed/)
  assert.equal(byName.get('clock (node processes)')?.applied, false)
  assert.match(byName.get('clock (node processes)')?.note ?? '', /^node failed with the preload/)
  assert.equal(byName.get('CPU count (node processes)')?.applied, false)
  assert.equal(byName.get('clock (other processes)')?.applied, false)
  assert.equal(byName.get('file order')?.applied, false)
  assert.match(byName.get('file order')?.note ?? '', /reversing it had no effect \(disorderfs not used\)/)
})

test('variants follow the host and the config: CPU count, TZ and locale names, source-date', () => {
  const one = planVariants({ check: true, clock: 'real', allowlist: [], hostEnv: {}, hostCpus: 1 })
  assert.equal(one[1]?.cpus, 2, 'one CPU: node is told of two')
  assert.equal(
    planVariants({ check: true, clock: 'real', allowlist: [], hostEnv: {}, hostCpus: 8 })[1]?.cpus,
    1,
  )
  assert.equal(
    planVariants({ check: false, clock: 'real', allowlist: [], hostEnv: {}, hostCpus: 8 }).length,
    1,
  )
  const passed = planVariants({
    check: true,
    clock: 'source-date',
    allowlist: ['TZ', 'LC_TIME', 'LANG', 'NODE_ENV'],
    hostEnv: { TZ: 'Pacific/Kiritimati', LANG: 'de_DE.UTF-8' },
    hostCpus: 2,
  })[1]
  assert.deepEqual(passed?.variation?.passed, {
    LANG: 'fr_CH.UTF-8',
    LC_TIME: 'fr_CH.UTF-8',
    // the host already has the usual second value: another one
    TZ: 'America/St_Johns',
  })
  assert.deepEqual(passed?.clock, { from: 'source-date', shiftS: 3661 })
  assert.deepEqual(
    planVariants({ check: true, clock: 'real', allowlist: [], hostEnv: {}, hostCpus: 2 })[1]?.variation
      ?.passed,
    {},
  )
})

test('TZ and locale names reach the build only when the config lets them through', () => {
  const base = {
    hostEnv: { TZ: 'Europe/Berlin', LANG: 'de_DE.UTF-8', LC_TIME: 'de_DE.UTF-8' },
    home: '/h',
    tmp: '/t',
    pathDirs: [],
    sourceDateEpoch: 1,
    npmCache: '/c',
    registry: 'https://registry.npmjs.org/',
    offline: true,
  }
  const fixed = toBuildEnv({ ...base, allowlist: [] })
  assert.deepEqual(
    [fixed.TZ, fixed.LANG, fixed.LC_ALL, fixed.LC_TIME],
    ['UTC', 'C.UTF-8', 'C.UTF-8', undefined],
  )
  const passed = toBuildEnv({ ...base, allowlist: ['TZ', 'LC_TIME'] })
  // LC_ALL would override LC_TIME: it is not forced when a locale name is let through
  assert.deepEqual(
    [passed.TZ, passed.LANG, passed.LC_ALL, passed.LC_TIME],
    ['Europe/Berlin', 'C.UTF-8', undefined, 'de_DE.UTF-8'],
  )
  const varied = toBuildEnv({
    ...base,
    allowlist: ['TZ', 'LC_TIME'],
    variation: { passed: { TZ: 'Pacific/Kiritimati', LC_TIME: 'fr_CH.UTF-8' }, noise: { COLUMNS: '37' } },
  })
  assert.deepEqual([varied.TZ, varied.LC_TIME, varied.COLUMNS], ['Pacific/Kiritimati', 'fr_CH.UTF-8', '37'])
  // allowed but unset on the host: the fixed value
  assert.equal(toBuildEnv({ ...base, hostEnv: {}, allowlist: ['TZ'] }).TZ, 'UTC')
})
