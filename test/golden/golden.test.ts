/**
 * The golden check itself can fail: for every committed golden file, the same bytes with one byte changed
 * are refused with a short unified diff; a missing golden names the switch; the switch writes the file.
 * (The checks here pass `update: false`/`true` explicitly, so they hold with or without the switch.)
 */
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import {
  assertCycloneDxJson,
  assertCycloneDxXml,
  assertGolden,
  assertMarkdown,
  assertOwnSchema,
  assertSarif,
  assertSigstoreBundle,
  describeMismatch,
  GOLDEN_DIR,
  type OwnSchema,
} from './golden.ts'

const tmp = mkdtempSync(path.join(os.tmpdir(), 'detbuild-golden-self-'))
after(() => rmSync(tmp, { recursive: true, force: true }))

function goldenNames(rel = ''): string[] {
  const out: string[] = []
  for (const d of readdirSync(path.join(GOLDEN_DIR, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${d.name}` : d.name
    if (d.isDirectory()) out.push(...goldenNames(r))
    else out.push(r)
  }
  return out.sort()
}

/** The bytes with one printable ASCII byte near the middle changed (a → `, b → c, …). */
function oneByteChanged(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes)
  let i = Math.floor(copy.length / 2)
  while (i < copy.length && !(copy[i]! > 0x20 && copy[i]! < 0x7f)) i++
  assert.ok(i < copy.length, 'no printable byte to change')
  copy[i] = copy[i]! ^ 0x01
  return copy
}

const names = goldenNames()

test('there are golden files for the workspace, the evidence archive and the repro report', () => {
  for (const dir of ['workspace/', 'evidence/', 'repro-report/'])
    assert.ok(
      names.some((n) => n.startsWith(dir)),
      `no golden file under ${dir}`,
    )
})

for (const name of names) {
  test(`${name}: one changed byte fails the comparison, with a diff`, () => {
    const golden = readFileSync(path.join(GOLDEN_DIR, name))
    assert.doesNotThrow(() => assertGolden(name, golden, { update: false }))
    const changed = oneByteChanged(golden)
    assert.throws(
      () => assertGolden(name, changed, { update: false }),
      (e: Error) => {
        assert.match(e.message, new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} differs`))
        assert.match(e.message, /^@@ -\d+(,\d+)? \+\d+(,\d+)? @@$/m, 'a unified diff hunk')
        assert.match(e.message, /DETBUILD_UPDATE_GOLDEN=1/)
        assert.ok(e.message.split('\n').length <= 45, 'the diff is short')
        return true
      },
    )
  })
}

test('the diff shows the first differences only; bytes that are not text get an offset', () => {
  const a = Buffer.from(Array.from({ length: 200 }, (_, i) => `line ${i}\n`).join(''))
  const b = Buffer.from(a.toString().replace(/line (\d+)/g, 'LINE $1'))
  const message = describeMismatch('x.txt', a, b)
  assert.match(message, /^-line 0$/m)
  assert.match(message, /^… \d+ more diff line\(s\)$/m)
  assert.equal(
    describeMismatch('x.bin', Buffer.from([1, 2, 0, 4]), Buffer.from([1, 2, 0, 5])),
    'x.bin: bytes differ from offset 3 (golden 4 bytes, output 4 bytes)',
  )
})

test('a missing golden fails and names the switch; the switch writes it, and then it matches', () => {
  const dir = path.join(tmp, 'files')
  assert.throws(
    () => assertGolden('new/out.json', '{}\n', { dir, update: false }),
    /no golden file test\/golden\/files\/new\/out\.json; create it with DETBUILD_UPDATE_GOLDEN=1/,
  )
  assertGolden('new/out.json', '{}\n', { dir, update: true })
  assert.equal(readFileSync(path.join(dir, 'new', 'out.json'), 'utf8'), '{}\n')
  assert.doesNotThrow(() => assertGolden('new/out.json', '{}\n', { dir, update: false }))
  // the switch rewrites a golden that differs
  cpSync(path.join(dir, 'new', 'out.json'), path.join(dir, 'old.json'))
  writeFileSync(path.join(dir, 'old.json'), '[]\n')
  assertGolden('old.json', '{}\n', { dir, update: true })
  assert.equal(readFileSync(path.join(dir, 'old.json'), 'utf8'), '{}\n')
})

test('every validator the goldens use can say no', async () => {
  const kinds: OwnSchema[] = [
    'vulns',
    'policy-result',
    'build',
    'provenance',
    'repro-report',
    'signatures',
    'in-toto-statement',
    'config',
  ]
  for (const kind of kinds) assert.throws(() => assertOwnSchema(kind, '{"schemaVersion":2}'), /not a valid/)
  // a run without its required tool; a result level SARIF does not have
  assert.throws(() => assertSarif('{"version":"2.1.0","runs":[{}]}'), /not a valid SARIF 2\.1\.0 log/)
  const golden = JSON.parse(readFileSync(path.join(GOLDEN_DIR, 'workspace', 'vulns.sarif'), 'utf8'))
  golden.runs[0].results[0].level = 'fatal'
  assert.throws(() => assertSarif(JSON.stringify(golden)), /level/)
  const sbom = readFileSync(path.join(GOLDEN_DIR, 'workspace', 'sbom.cdx.json'), 'utf8')
  await assert.rejects(assertCycloneDxJson(sbom.replace('"type": "library"', '"type": "lib"')), /CycloneDX/)
  const xml = readFileSync(path.join(GOLDEN_DIR, 'workspace', 'sbom.cdx.xml'), 'utf8')
  await assert.rejects(assertCycloneDxXml(xml.replace('<name>', '<nom>').replace('</name>', '</nom>')))
  assert.throws(() => assertSigstoreBundle('{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}'))
  assert.throws(() => assertMarkdown('no final newline'), /final newline/)
})
