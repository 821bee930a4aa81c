/** action.yml's structure, and the bundle build: reproducible, self-contained; the freshness check's message. */
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import YAML from 'yaml'
import { buildAction, OUTFILE, staleness } from '../../scripts/build-action.ts'
import { INPUT_DEFAULTS, INPUT_NAMES, readInputs } from '../../src/action/inputs.ts'
import { FailOnLevels, SIGNING_FLAGS, TRUST_FLAGS } from '../../src/flags/index.ts'
import { ROOT } from './helpers.ts'

interface ActionMeta {
  name: string
  description: string
  inputs: Record<string, { description: string; required?: boolean; default?: string }>
  outputs: Record<string, { description: string }>
  runs: { using: string; main: string }
}

const TABLE_INPUTS: string[] = [...SIGNING_FLAGS, ...TRUST_FLAGS].flatMap((f) =>
  'input' in f && f.input !== undefined ? [f.input] : [],
)

const readMeta = async () => YAML.parse(await readFile(path.join(ROOT, 'action.yml'), 'utf8')) as ActionMeta

test('action.yml: required keys, node24, main is the committed bundle', async () => {
  const meta = await readMeta()
  for (const key of ['name', 'description', 'inputs', 'outputs', 'runs'] as const) assert.ok(meta[key], key)
  assert.equal(meta.runs.using, 'node24')
  assert.equal(meta.runs.main, OUTFILE)
  assert.ok((await readFile(path.join(ROOT, meta.runs.main))).length > 0)
  // the brief's minimum inputs and outputs
  for (const name of [
    'working-directory',
    'command',
    'config',
    'policy',
    'sign',
    'fail-on',
    'osv-url',
    'offline-db',
  ])
    assert.ok(meta.inputs[name], `input ${name}`)
  for (const name of ['evidence', 'sbom', 'artifacts', 'digests', 'verdict'])
    assert.ok(meta.outputs[name], `output ${name}`)
  assert.equal(meta.inputs.command!.default, 'run')
})

test('action.yml: every input is documented, has a string default, and is read by src/action', async () => {
  const meta = await readMeta()
  assert.deepEqual(Object.keys(meta.inputs).sort(), [...INPUT_NAMES].sort())
  const source = (
    await Promise.all(
      (
        await readdir(path.join(ROOT, 'src', 'action'))
      )
        .filter((f) => f.endsWith('.ts'))
        .map((f) => readFile(path.join(ROOT, 'src', 'action', f), 'utf8')),
    )
  ).join('\n')
  for (const [name, input] of Object.entries(meta.inputs)) {
    assert.ok(input.description && input.description.length > 10, `${name} is documented`)
    assert.equal(input.required, false, `${name} is optional`)
    assert.equal(typeof input.default, 'string', `${name} has a string default`)
    assert.equal(input.default, INPUT_DEFAULTS[name as keyof typeof INPUT_DEFAULTS], `${name} default`)
    // an input of a flag table (sign/flags.ts, verify/flags.ts) is read through the table
    if (TABLE_INPUTS.includes(name)) continue
    assert.ok(source.includes(`'${name}'`) && /get\('|inputVariable\('/.test(source), `${name} is read`)
    assert.ok(
      source.includes(`get('${name}')`) || source.includes(`inputVariable('${name}')`),
      `${name} is read by readInputs`,
    )
  }
  for (const [name, output] of Object.entries(meta.outputs)) {
    assert.ok(output.description && output.description.length > 10, `${name} is documented`)
    assert.ok(source.includes(`'${name}'`) || new RegExp(`\\b${name}:`).test(source), `${name} is set`)
  }
})

test('the bundle builds reproducibly, without warnings, absolute paths or run-time file lookups', async () => {
  // whether the committed dist/action.js is this build is its own CI step (scripts/setup.sh test runs
  // `node scripts/build-action.ts --check`), so a source change does not fail the unit suite
  const [a, b] = [await buildAction(), await buildAction()]
  assert.ok(Buffer.from(a.bytes).equals(Buffer.from(b.bytes)), 'two builds give identical bytes')
  assert.deepEqual(a.warnings, [])
  const text = Buffer.from(a.bytes).toString('utf8')
  // no absolute paths of this machine, no timestamps of the build
  assert.ok(!text.includes(ROOT), 'no absolute paths')
  // the compiled SBOM validators are bundled (no worker file, no schema folder needed at run time)
  assert.ok(text.includes('duplicateOf'), 'the compiled CycloneDX validators are bundled')
  assert.ok(text.includes('bom-1.6.SNAPSHOT.schema.json'), 'the CycloneDX schemas are embedded')
})

test('the freshness check names a missing or stale bundle and passes an identical one', () => {
  const fresh = Buffer.from('bundle')
  assert.equal(staleness(Buffer.from('bundle'), fresh), undefined)
  assert.equal(
    staleness(undefined, fresh),
    `${OUTFILE} is missing: run node scripts/build-action.ts and commit the result`,
  )
  assert.equal(
    staleness(Buffer.from('old bundle'), fresh),
    `${OUTFILE} is stale (10 bytes committed, 6 built from src/): run node scripts/build-action.ts and commit the result`,
  )
})

test("action.yml: the signing and verify inputs are the flag tables' own, read under the step's option names", async () => {
  const meta = await readMeta()
  assert.ok(TABLE_INPUTS.length >= 8, 'the tables name the URL and trust inputs')
  const env: Record<string, string> = {}
  for (const [i, f] of [...SIGNING_FLAGS, ...TRUST_FLAGS].entries()) {
    if (!('input' in f) || f.input === undefined) continue
    assert.ok(meta.inputs[f.input], `action.yml declares input ${f.input} (${f.flag})`)
    assert.equal(meta.inputs[f.input]!.default, '', `${f.input} defaults to ""`)
    // an input is a string: only flags that take an argument have one
    assert.match(f.flag, /<[a-z]+>$/, `${f.input} belongs to a flag with an argument`)
    env[`INPUT_${f.input.toUpperCase()}`] = `value-${i}`
  }
  const inputs = readInputs(env)
  for (const [i, f] of SIGNING_FLAGS.entries())
    if ('input' in f && f.input !== undefined)
      assert.equal(inputs.signing[f.key as 'fulcioUrl'], `value-${i}`)
  for (const [i, f] of TRUST_FLAGS.entries())
    if ('input' in f && f.input !== undefined)
      assert.equal(inputs.trust[f.key as 'key'], `value-${i + SIGNING_FLAGS.length}`, f.key)
  // every action.yml input about who signs or who must have signed is in a table, or read on its own
  const own = ['sign', 'key', 'key-password']
  // (the Dependency-Track upload's URL is neither: its key comes from the environment, upload-step.ts)
  for (const name of Object.keys(meta.inputs))
    if (
      /url$|key|certificate|trusted/.test(name) &&
      name !== 'osv-url' &&
      !name.startsWith('dependency-track-')
    )
      assert.ok(TABLE_INPUTS.includes(name) || own.includes(name), `${name} comes from a flag table`)
})

test('the --fail-on levels: one table, the same in action.yml and the config schema', async () => {
  const meta = await readMeta()
  const described = meta.inputs['fail-on']!.description
  for (const level of FailOnLevels) assert.ok(described.includes(level), `action.yml fail-on names ${level}`)
  const schema = JSON.parse(await readFile(path.join(ROOT, 'schema', 'config.schema.json'), 'utf8'))
  assert.deepEqual(schema.properties.run.properties.failOn.enum, [...FailOnLevels])
})
