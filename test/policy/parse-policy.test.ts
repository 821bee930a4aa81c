import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, it } from 'node:test'
import { InputError } from '../../src/errors.ts'
import { parsePolicy } from '../../src/policy/parse-policy.ts'
import { listBuiltinPolicies, readPolicy, readPolicySchema } from '../../src/policy/policy-files.ts'
import { ROOT } from './helpers.ts'

async function problems(text: string): Promise<Array<{ path: string; line: number | null }>> {
  const schema = await readPolicySchema()
  try {
    parsePolicy(text, 'p.yaml', schema)
  } catch (e) {
    assert.ok(e instanceof InputError)
    assert.equal(e.code, 'POLICY_INVALID')
    assert.equal(e.exitCode, 2)
    assert.equal(e.file, 'p.yaml')
    return (e.details as { problems: Array<{ path: string; line: number | null }> }).problems
  }
  assert.fail('expected POLICY_INVALID')
}

describe('shipped policies', () => {
  it('ships default, strict and permissive-licenses', async () => {
    const names = await listBuiltinPolicies()
    for (const n of ['default', 'permissive-licenses', 'strict']) assert.ok(names.includes(n), n)
  })

  it('every shipped policy loads and validates against the schema', async () => {
    for (const name of await listBuiltinPolicies()) {
      const { policy, source } = await readPolicy(ROOT, name)
      assert.equal(policy.version, 1)
      assert.equal(source.source, `builtin:${name}`)
      assert.equal(source.name, name)
      assert.match(source.sha256, /^[0-9a-f]{64}$/)
    }
  })

  it('the schema file is valid JSON with an $id', async () => {
    const schema = JSON.parse(await readFile(path.join(ROOT, 'schema', 'policy.schema.json'), 'utf8'))
    assert.equal(typeof schema.$id, 'string')
  })
})

describe('malformed policies', () => {
  it('names an unknown key and its line', async () => {
    const p = await problems('version: 1\nlicenses:\n  allow: [MIT]\n  alow: [ISC]\n')
    assert.deepEqual(p, [{ path: 'licenses.alow', line: 4, message: 'unknown key' }])
  })

  it('names a wrong type and its line', async () => {
    const p = await problems('version: 1\nvulnerabilities:\n  includeDev: "yes"\n')
    assert.equal(p[0]?.path, 'vulnerabilities.includeDev')
    assert.equal(p[0]?.line, 3)
  })

  it('names a bad enum value inside a list', async () => {
    const p = await problems('version: 1\nsbom:\n  ntia:\n    elements:\n      - name\n      - colour\n')
    assert.equal(p[0]?.path, 'sbom.ntia.elements[1]')
    assert.equal(p[0]?.line, 6)
  })

  it('requires version 1', async () => {
    assert.equal((await problems('name: x\n'))[0]?.path, 'version')
    assert.equal((await problems('version: 2\n'))[0]?.path, 'version')
  })

  it('collects every problem', async () => {
    const p = await problems('version: 1\nfoo: 1\nbuild:\n  reproducible: maybe\n')
    assert.equal(p.length, 2)
  })

  it('reports YAML syntax errors with a line', async () => {
    const p = await problems('version: 1\nlicenses:\n  allow: [MIT\n')
    assert.ok(p[0]?.line !== null)
  })

  it('rejects duplicate keys', async () => {
    await problems('version: 1\nversion: 1\n')
  })

  it('rejects a non-mapping document', async () => {
    const schema = await readPolicySchema()
    assert.throws(() => parsePolicy('- a\n', 'p.yaml', schema), { code: 'POLICY_INVALID' })
  })

  it('rejects licences that are not SPDX and compound allow entries', async () => {
    const p = await problems(
      'version: 1\nlicenses:\n  allow:\n    - MIT\n    - Foo License\n    - MIT OR ISC\n',
    )
    assert.deepEqual(
      p.map((x) => [x.path, x.line]),
      [
        ['licenses.allow[1]', 5],
        ['licenses.allow[2]', 6],
      ],
    )
  })

  it('rejects a bad semver range', async () => {
    const p = await problems(
      'version: 1\npackages:\n  deny:\n    - purl: pkg:npm/x\n      versions: "not a range"\n',
    )
    assert.equal(p[0]?.path, 'packages.deny[0].versions')
    assert.equal(p[0]?.line, 5)
  })

  it('rejects an exception about nothing and a bad expiry', async () => {
    const p = await problems('version: 1\nexceptions:\n  - justification: because\n    expires: tomorrow\n')
    assert.deepEqual(
      p.map((x) => x.path),
      ['exceptions[0].expires'],
    )
    const q = await problems('version: 1\nexceptions:\n  - justification: because\n')
    assert.equal(q[0]?.path, 'exceptions[0]')
    assert.equal(q[0]?.line, 3)
  })

  it('rejects an exception for a rule id that does not exist, naming path and line; families are fine', async () => {
    const text =
      'version: 1\nexceptions:\n  - rule: sbom.ntia\n    justification: a family\n  - rule: sbom.nita.supplier\n    justification: typo\n'
    const p = await problems(text)
    assert.deepEqual(
      p.map((x) => [x.path, x.line]),
      [['exceptions[1].rule', 5]],
    )
    try {
      parsePolicy(text, 'p.yaml', await readPolicySchema())
    } catch (e) {
      assert.match(
        (e as Error).message,
        /exceptions\[1\]\.rule \(line 5\): unknown rule id "sbom\.nita\.supplier"/,
      )
    }
    for (const ok of ['signing', 'exceptions.vex', 'build.toolchain-pinned', 'vulnerabilities'])
      parsePolicy(
        `version: 1\nexceptions:\n  - rule: ${ok}\n    justification: j\n`,
        'p.yaml',
        await readPolicySchema(),
      )
  })

  it('accepts JSON policies', async () => {
    const schema = await readPolicySchema()
    const p = parsePolicy('{"version": 1, "licenses": {"allow": ["MIT"]}}', 'p.json', schema)
    assert.deepEqual(p.licenses?.allow, ['MIT'])
  })

  it('a missing policy file is POLICY_NOT_FOUND (exit 2)', async () => {
    await assert.rejects(readPolicy(ROOT, 'no-such-policy.yaml'), { code: 'POLICY_NOT_FOUND', exitCode: 2 })
  })
})
