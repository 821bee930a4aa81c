/**
 * The pure score core (src/policy/score.ts) on a committed SBOM: the figures agree with an independent
 * count, dev-only components are left out unless asked, the text groups thousands, and a document that
 * is not CycloneDX is refused with the policy reader's error.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { coverageText, scoreDocument, scoreSbom, scoreText } from '../../src/policy/score.ts'

type Obj = Record<string, any>
const FILE = 'test/golden/files/sbom/dep-kinds.cdx.json'
const doc = JSON.parse(readFileSync(FILE, 'utf8')) as Obj
const input = { file: FILE, sha256: '0'.repeat(64) }

test('the golden dep-kinds SBOM: every figure is an independent count', () => {
  const [cisa, bsi] = scoreSbom(doc, input)
  const shipped = (doc.components as Obj[]).filter((c) => c.scope !== 'excluded')
  const all = doc.components as Obj[]
  assert.ok(shipped.length < all.length, 'the fixture has dev-only components')
  const el = (s: typeof cisa, id: string) => s!.elements.find((e) => e.id === id)!
  assert.equal(cisa!.components, shipped.length)
  assert.equal(el(cisa, 'license').present, shipped.filter((c) => (c.licenses ?? []).length > 0).length)
  assert.equal(
    el(bsi, 'filename').present,
    shipped.filter((c) => (c.properties ?? []).some((p: Obj) => p.name === 'bsi:component:filename')).length,
  )
  // git and directory dependencies have no tarball: no file facts claimed for them
  const noFile = el(bsi, 'filename').missing.map((m) => m.subject)
  assert.ok(
    noFile.some((s) => s.startsWith('pkg:npm/git-dep@')),
    noFile.join(', '),
  )
  const withDev = scoreSbom(doc, input, { includeDev: true })
  assert.equal(withDev[0]!.components, all.length)
  const d = scoreDocument([cisa!, bsi!], input) as Obj
  assert.deepEqual(
    d.profiles.map((p: Obj) => p.profile),
    ['cisa-2026', 'bsi-tr-03183-2'],
  )
  assert.deepEqual(
    Object.keys(d.profiles[1].missing).sort(),
    bsi!.elements
      .filter((e) => e.missing.length > 0)
      .map((e) => e.id)
      .sort(),
  )
  assert.match(
    scoreText([cisa!]),
    new RegExp(`^cisa-2026: ${cisa!.complete}/14 elements complete over ${shipped.length} components\\n`),
  )
})

test('coverage text: thousands grouped, documents present or missing', () => {
  assert.equal(coverageText({ present: 1203, checked: 1277, scope: 'component' }), '1,203/1,277 components')
  assert.equal(coverageText({ present: 1, checked: 1, scope: 'component' }), '1/1 component')
  assert.equal(coverageText({ present: 0, checked: 1, scope: 'document' }), 'missing')
})

test('not a CycloneDX SBOM: refused with POLICY_SBOM_INVALID', () => {
  assert.throws(() => scoreSbom({ spdxVersion: 'SPDX-2.3' }, input), { code: 'POLICY_SBOM_INVALID' })
})
