import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { startJsonValidation, validateXml } from '../../src/sbom/validate.ts'
import { cli } from '../helpers/cli.ts'
import { fixture, tempDir } from '../helpers/paths.ts'

async function xmlOf(dir: string, spec: string): Promise<{ json: string; xml: string }> {
  const out = tempDir()
  const r = await cli(['sbom', '-C', dir, '--out', out, '--format', 'both', '--spec', spec])
  assert.equal(r.code, 0, r.stderr)
  assert.doesNotMatch(r.stderr, /validation skipped/)
  return {
    json: readFileSync(path.join(out, 'sbom.cdx.json'), 'utf8'),
    xml: readFileSync(path.join(out, 'sbom.cdx.xml'), 'utf8'),
  }
}

for (const name of ['small-app', 'monorepo', 'dep-kinds', 'lockfile-v1']) {
  test(`${name}: the XML SBOM is valid against the official XSD (1.6 and 1.4)`, async () => {
    for (const spec of ['1.6', '1.4'] as const) {
      const { xml } = await xmlOf(fixture(name), spec)
      assert.deepEqual(await validateXml(xml, spec), { ok: true })
      assert.deepEqual(await validateXml(xml, spec, 'wasm'), { ok: true })
    }
  })
}

test('the XML validator rejects a document that breaks the schema, naming the line', async () => {
  const { xml } = await xmlOf(fixture('small-app'), '1.6')
  const broken = xml.replace('<components>', '<components>\n    <unexpected/>')
  for (const engine of ['auto', 'wasm'] as const) {
    const outcome = await validateXml(broken, '1.6', engine)
    assert.equal(outcome.ok, false, engine)
    assert.match((outcome as { error: string }).error, /^line \d+: .*unexpected/, engine)
  }
})

test('the JSON validator accepts detbuild output and rejects a broken document', async () => {
  const { json } = await xmlOf(fixture('small-app'), '1.6')
  const v = startJsonValidation('1.6')
  try {
    assert.deepEqual(await v.validate(json), { ok: true })
    const doc = JSON.parse(json)
    doc.components[0].type = 'not-a-type'
    const outcome = await v.validate(JSON.stringify(doc))
    assert.equal(outcome.ok, false)
    assert.match((outcome as { error: string }).error, /^\/components\/0\/type/)
  } finally {
    await v.close()
  }
})
