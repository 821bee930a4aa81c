/** The signing, verify and --fail-on choices are declared once; every command offers them from the tables. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type Command, Option } from 'commander'
import { buildProgram } from '../../src/cli/program.ts'
import { runFlagValues } from '../../src/cli/signing-options.ts'
import { FailOnLevels, SIGNING_FLAGS, TRUST_FLAGS } from '../../src/flags/index.ts'

async function commands(): Promise<Map<string, Command>> {
  const program = await buildProgram({
    env: {},
    processCwd: process.cwd(),
    color: false,
    stdout: () => {},
    stderr: () => {},
    now: () => new Date(0),
    onOutcome: () => {},
    onGlobals: () => {},
  })
  return new Map(program.commands.map((c) => [c.name(), c]))
}

const flagsOf = (c: Command) => new Map(c.options.map((o) => [o.flags, o]))

test('sign, bundle, verify and policy offer their table with its help and defaults', async () => {
  const all = await commands()
  for (const [name, table] of [
    ['sign', SIGNING_FLAGS],
    ['bundle', SIGNING_FLAGS],
    ['verify', TRUST_FLAGS],
    ['policy', TRUST_FLAGS],
  ] as const) {
    const flags = flagsOf(all.get(name)!)
    for (const f of table) {
      const o = flags.get(f.flag)
      assert.ok(o, `${name} ${f.flag}`)
      assert.equal(o.description, f.description)
      if ('default' in f) assert.equal(o.defaultValue, f.default, `${name} ${f.flag} default`)
    }
  }
})

test('run offers each run flag of both tables under its run name, with no default', async () => {
  const run = flagsOf((await commands()).get('run')!)
  for (const [step, table] of [
    ['sign', SIGNING_FLAGS],
    ['verify', TRUST_FLAGS],
  ] as const)
    for (const f of table) {
      if (!('run' in f)) continue
      const name = 'flag' in f.run ? f.run.flag : f.flag
      const o = run.get(name)
      assert.ok(o, `run ${name}`)
      assert.equal(o.description, `${step}: ${f.run.description}`)
      assert.equal(o.defaultValue, undefined, `run ${name} has no default`)
    }
  assert.deepEqual(run.get('--fail-on <severity>')!.argChoices, [...FailOnLevels])
})

test('run flag values land under the step option names; switches only when given', () => {
  const parsed = { verifyKey: 'k.pub', insecureIgnoreTlog: undefined, tlog: true, fulcioUrl: 'https://f' }
  assert.deepEqual(runFlagValues(parsed, TRUST_FLAGS), { key: 'k.pub' })
  assert.deepEqual(runFlagValues(parsed, SIGNING_FLAGS), { fulcioUrl: 'https://f' })
  assert.deepEqual(
    runFlagValues({ tlog: false, insecureIgnoreTlog: true }, [...SIGNING_FLAGS, ...TRUST_FLAGS]),
    {
      tlog: false,
      insecureIgnoreTlog: true,
    },
  )
  assert.equal(new Option('--verify-key <file>').attributeName(), 'verifyKey')
})

test('scan offers the --fail-on levels of the one table', async () => {
  const scan = flagsOf((await commands()).get('scan')!)
  assert.deepEqual(scan.get('--fail-on <severity>')!.argChoices, [...FailOnLevels])
})
