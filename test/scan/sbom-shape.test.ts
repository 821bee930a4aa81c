/** A type-confused SBOM component is bad input naming its JSON path, never a crash in a later step. */
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { cli } from '../helpers/cli.ts'
import { recordsDir, tempDir, vulnerableAppSbom } from './helpers.ts'

test('component fields of the wrong type: exit 2, SCAN_SBOM_INVALID, the JSON path named', async () => {
  const t = await tempDir()
  try {
    const cases: Array<[(s: any) => void, string]> = [
      [(s) => (s.components[0].purl = [s.components[0].purl]), '$.components[0].purl must be a string'],
      [(s) => (s.components[1].name = 7), '$.components[1].name must be a string'],
      [(s) => (s.components[2] = null), '$.components[2] is not an object'],
      [(s) => (s.components[0].components = {}), '$.components[0].components must be an array'],
      [(s) => (s.metadata.component['bom-ref'] = {}), '$.metadata.component.bom-ref must be a string'],
      [(s) => (s.metadata = []), '"metadata" must be an object'],
    ]
    for (const [mutate, expected] of cases) {
      const sbom = JSON.parse(await readFile(vulnerableAppSbom, 'utf8'))
      mutate(sbom)
      await writeFile(path.join(t.dir, 'x.json'), JSON.stringify(sbom))
      const r = await cli(['scan', '-C', t.dir, '--sbom', 'x.json', '--offline-db', recordsDir, '--no-cache'])
      assert.equal(r.code, 2, expected + r.stderr)
      assert.match(r.stderr, /\[SCAN_SBOM_INVALID\]: x\.json: /)
      assert.ok(r.stderr.includes(expected), `${expected}: ${r.stderr}`)
      assert.doesNotMatch(r.stderr, /bug in detbuild/)
    }
  } finally {
    await t.cleanup()
  }
})
