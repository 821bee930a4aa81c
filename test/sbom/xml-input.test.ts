/**
 * CycloneDX XML as input (scan, policy: src/sbom-read/xml.ts): for detbuild's own SBOMs of npm, Go and
 * mixed projects, in every spec version 1.4–1.7, the XML read back is exactly the JSON document the same
 * run wrote — every component (nested ones too), hash, licence, property, reference, dependency and
 * composition. The XML is checked against its XSD before it is read (the hostile cases are in
 * format-roundtrip.test.ts).
 */
import assert from 'node:assert/strict'
import { cpSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { makeSbom, SPEC_VERSIONS, validateXml } from '../../src/sbom/index.ts'
import { readSbom } from '../../src/sbom-read/index.ts'
import { fixture, repoRoot, tempDir } from '../helpers/paths.ts'

const base = {
  from: 'lockfile' as const,
  omit: [],
  workspaces: [],
  validate: false,
  sourceDateEpoch: 1_700_000_000,
  env: {},
}

type Doc = any
/** Components (nested too), dependencies and composition lists in code-point order, the rest as it is. */
function byRef(bom: Doc): Doc {
  const sort = (list: Doc[] | undefined): Doc[] | undefined =>
    list
      ?.map((c) => ({ ...c, ...(c.components ? { components: sort(c.components) } : {}) }))
      .sort((a, b) => (a['bom-ref'] < b['bom-ref'] ? -1 : a['bom-ref'] > b['bom-ref'] ? 1 : 0))
  return {
    ...bom,
    components: sort(bom.components),
    dependencies: [...(bom.dependencies ?? [])]
      .map((d) => ({ ...d, ...(d.dependsOn ? { dependsOn: [...d.dependsOn].sort() } : {}) }))
      .sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0)),
    compositions: bom.compositions?.map((c: Doc) => ({
      ...c,
      ...(c.dependencies ? { dependencies: [...c.dependencies].sort() } : {}),
      ...(c.assemblies ? { assemblies: [...c.assemblies].sort() } : {}),
    })),
  }
}

const goSource = (name: string, npm?: string) => {
  const dir = tempDir('detbuild-xml-input-')
  if (npm) cpSync(fixture(npm), dir, { recursive: true })
  cpSync(path.join(repoRoot, 'test/fixtures/go/source', name), dir, { recursive: true })
  return dir
}

const projects: Array<[string, () => string]> = [
  ['small-app', () => fixture('small-app')],
  ['monorepo', () => fixture('monorepo')],
  ['dep-kinds', () => fixture('dep-kinds')],
  ['lockfile-v1', () => fixture('lockfile-v1')],
  ['vulnerable-app', () => fixture('vulnerable-app')],
  ['large-app', () => fixture('large-app')],
  ['Go (caddy)', () => goSource('caddy')],
  ['mixed (npm + Go)', () => goSource('go-cmd', 'small-app')],
]

for (const [label, dirOf] of projects)
  test(`${label}: CycloneDX XML 1.4–1.7 reads back as the JSON the same run wrote`, async () => {
    const cwd = dirOf()
    for (const spec of SPEC_VERSIONS) {
      const made = await makeSbom({ ...base, cwd, format: 'both', spec })
      const xml = made.serialized.xml as string
      const read = await readSbom(xml, 'sbom.cdx.xml', 'SCAN_SBOM_INVALID', validateXml)
      assert.equal(read.format, 'cyclonedx-xml')
      // the XML writer leaves list order to the CycloneDX library; the JSON is sorted by code point
      assert.deepEqual(
        byRef(read.bom),
        byRef(JSON.parse(made.serialized.json as string)),
        `${label}, CycloneDX ${spec}`,
      )
    }
  })
