/**
 * Values JSON cannot carry: a number beyond ±1.8e308 (JSON.parse reads ±Infinity, which no writer can
 * write back), YAML's `.inf`/`.nan` and YAML 1.1 types, a YAML document the library had to guess about
 * (an unresolved tag), and a lockfile integrity ssri reads no hash from. Each is exit 2 naming the file
 * and the place, never exit 70.
 */
import assert from 'node:assert/strict'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { toPrefetchList } from '../../src/builder/prefetch.ts'
import { parseConfigText } from '../../src/config/load-build-config.ts'
import { assertLockfileShape } from '../../src/ecosystems/npm/input-shapes.ts'
import { InputError } from '../../src/errors.ts'
import { parsePolicy } from '../../src/policy/parse-policy.ts'
import { toDetbuildIgnore } from '../../src/scan/suppressions.ts'
import { sriToHex } from '../../src/util/digest.ts'
import { parseJson, parseJsonText, prescanJson } from '../../src/util/json-parse.ts'
import { parseYamlStrict } from '../../src/util/yaml-parse.ts'
import { cli } from '../helpers/cli.ts'
import { fixture, tempDir } from '../helpers/paths.ts'

const code = (f: () => unknown): string | undefined => {
  try {
    f()
    return undefined
  } catch (e) {
    return (e as { code?: string }).code ?? (e as Error).name
  }
}

test('the JSON pre-scan finds numbers that overflow a double, and only those', () => {
  for (const text of ['-1e400', '[1, 2E+309]', '{"a":1.7976931348623159e308}', '1'.repeat(310), '[0,-1e999]'])
    assert.equal(prescanJson(text)?.kind, 'overflow', text)
  for (const text of [
    '1e308',
    '1.7976931348623157e308',
    '1e-400',
    '"1e400"',
    '{"k\\"1e400":true}',
    '[true,false,null,1e2]',
    '1'.repeat(309),
    `0.${'0'.repeat(100_000)}1`,
    `0.${'0'.repeat(500)}1e700`,
  ])
    assert.equal(prescanJson(text), undefined, text.slice(0, 40))
  // a long finite fraction is looked at once, not once per digit
  const started = performance.now()
  prescanJson(`[0.${'1'.repeat(2_000_000)}]`)
  assert.ok(performance.now() - started < 2000, 'linear')
})

test("parseJson: an out-of-range number is the reader's code, exit 2, naming line and column", () => {
  const text = '{\n  "components": [\n    { "purl": -1e400 }\n  ]\n}'
  assert.throws(
    () => parseJson(text, 'sbom.cdx.json', 'SCAN_SBOM_INVALID'),
    (e: unknown) =>
      e instanceof InputError &&
      e.code === 'SCAN_SBOM_INVALID' &&
      e.exitCode === 2 &&
      /line 3, column 15: the number -1e400 is out of range/.test(e.message),
  )
  assert.throws(() => parseJsonText(text), SyntaxError)
  assert.throws(() => parseJsonText(`${'['.repeat(600)}${']'.repeat(600)}`), /nested deeper than 512/)
})

test('scan: an SBOM with -1e400 is exit 2 SCAN_SBOM_INVALID, not "cannot encode -Infinity"', async () => {
  const dir = tempDir()
  const sbom = JSON.parse(
    readFileSync(path.join(import.meta.dirname, '../scan/fixtures/vulnerable-app.cdx.json'), 'utf8'),
  )
  sbom.components[0].purl = '@@NUMBER@@'
  writeFileSync(path.join(dir, 'x.cdx.json'), JSON.stringify(sbom).replace('"@@NUMBER@@"', '-1e400'))
  const r = await cli(['--json', 'scan', '--sbom', 'x.cdx.json', '--offline-db', fixture('osv', 'records')], {
    cwd: dir,
  })
  assert.equal(r.code, 2, r.stdout)
  const error = JSON.parse(r.stdout).error
  assert.equal(error.code, 'SCAN_SBOM_INVALID')
  assert.equal(error.file, 'x.cdx.json')
  assert.match(error.message, /line 1, column \d+: the number -1e400 is out of range/)
})

test('YAML: warnings are refused, never printed; values JSON cannot carry are refused with their path', () => {
  const printed: string[] = []
  const onWarning = (w: Error) => printed.push(w.name)
  process.on('warning', onWarning)
  try {
    assert.throws(() => parseYamlStrict('a: !foo bar'), /Unresolved tag: !foo/)
    const cases: Array<[string, RegExp]> = [
      ['a: !foo bar', /invalid YAML.*Unresolved tag/],
      ['a: .inf', /\$\.a is Infinity/],
      ['a: [1, -1e400]', /\$\.a\[1\] is -Infinity/],
      ['a: .nan', /\$\.a is NaN/],
      ['%YAML 1.1\n---\na: !!binary aGVsbG8=', /\$\.a is not plain data/],
      ['%YAML 1.1\n---\na: 2001-12-14', /\$\.a is not plain data \(a Date\)/],
      ['%YAML 1.1\n---\na: !!set {x}', /\$\.a is not plain data \(a Set\)/],
    ]
    for (const [text, message] of cases) {
      for (const [expected, f] of [
        ['CONFIG_INVALID', () => parseConfigText(text, 'detbuild.config.yaml', parseYamlStrict)],
        ['SCAN_IGNORE_FILE_INVALID', () => toDetbuildIgnore(text, 'detbuild.ignore.yaml')],
        ['POLICY_INVALID', () => parsePolicy(text, 'policy.yaml', {})],
      ] as const) {
        assert.throws(
          f,
          (e: unknown) =>
            e instanceof InputError && e.code === expected && e.exitCode === 2 && message.test(e.message),
          `${expected}: ${text}`,
        )
      }
    }
    // a collection as a mapping key: the library's "stringified" notice is not printed either
    parseYamlStrict('? [a, b]\n: c')
  } finally {
    process.off('warning', onWarning)
  }
  assert.deepEqual(printed, [])
})

test('lockfile integrity: a string ssri reads at least one hash from, each with a base64 digest', () => {
  const lock = (integrity: unknown) => ({
    lockfileVersion: 3,
    packages: { '': {}, 'node_modules/ms': { version: '2.1.3', integrity } },
  })
  const v1 = (integrity: unknown) => ({
    lockfileVersion: 1,
    dependencies: { ms: { version: '2.1.3', integrity } },
  })
  const good =
    'sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA=='
  for (const ok of [good, `sha1-Wg5ZkkNL9e8OR0tzhxrrzaX0pjM= ${good}`])
    for (const doc of [lock(ok), v1(ok)])
      assert.equal(
        code(() => assertLockfileShape(doc, 'package-lock.json')),
        undefined,
      )
  for (const bad of ['"'.repeat(1000), '', 'sha512-', 'md6-abc', 'sha512-!!!!', 42, null]) {
    for (const doc of [lock(bad), v1(bad)]) {
      assert.throws(
        () => assertLockfileShape(doc, 'package-lock.json'),
        (e: unknown) =>
          e instanceof InputError &&
          e.code === 'SBOM_LOCKFILE_INVALID' &&
          /^\$\.(packages\["node_modules\/ms"\]|dependencies\.ms)\.integrity$/.test(
            String((e.details as { path?: string }).path),
          ) &&
          e.message.length < 300,
        JSON.stringify(bad)?.slice(0, 20),
      )
    }
  }
  // the prefetch list of an offline build refuses the same (pacote would fetch unchecked)
  assert.equal(toPrefetchList(lock(good)).length, 1)
  assert.equal(
    code(() => toPrefetchList(lock('"""'))),
    'BUILD_LOCKFILE_INVALID',
  )
  assert.equal(
    code(() => toPrefetchList({ lockfileVersion: 3, packages: { a: null } })),
    'BUILD_LOCKFILE_INVALID',
  )
  // and a hash-less string is an empty map, not a TypeError
  assert.deepEqual([...sriToHex('"""')], [])
})

test('sbom: a v1 lockfile with a malformed integrity is exit 2 naming the JSON path', async () => {
  const dir = tempDir()
  cpSync(fixture('lockfile-v1'), dir, { recursive: true })
  const lock = JSON.parse(readFileSync(path.join(dir, 'package-lock.json'), 'utf8'))
  const [name] = Object.keys(lock.dependencies)
  lock.dependencies[name!].integrity = '"'.repeat(425_104)
  writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify(lock))
  const r = await cli(['--json', 'sbom', '--no-validate', '--out', tempDir()], { cwd: dir })
  assert.equal(r.code, 2, r.stdout)
  const error = JSON.parse(r.stdout).error
  assert.equal(error.code, 'SBOM_LOCKFILE_INVALID')
  assert.equal(error.file, 'package-lock.json')
  assert.match(error.details.path, /^\$\.dependencies.*\.integrity$/)
  assert.ok(error.message.length < 300, 'the value is quoted short')
})
