/**
 * SBOM goldens beyond the workspace's small project: fixtures/dep-kinds (scoped, aliased, git, tarball and
 * file dependencies: the purl edge cases) and fixtures/monorepo (workspaces), read from their lockfiles,
 * as JSON and XML, validated with the CycloneDX library's JSON validator and the XSD, each made twice.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { createLogger, runSbom } from '../../src/index.ts'
import { assertCycloneDxJson, assertCycloneDxXml, assertGolden, ROOT } from './golden.ts'

const log = createLogger({ quiet: true, write: () => {} })
const tmp = await mkdtemp(path.join(os.tmpdir(), 'detbuild-golden-sbom-'))
after(() => rm(tmp, { recursive: true, force: true }))

async function sbomOf(name: string, run: string): Promise<{ json: string; xml: string }> {
  const out = path.join(tmp, name, run)
  await runSbom({
    cwd: path.join(ROOT, 'fixtures', name),
    out,
    from: 'lockfile',
    format: 'both',
    spec: '1.6',
    omit: [],
    workspaces: [],
    validate: true,
    sourceDateEpoch: 1_700_000_000,
    log,
  })
  return {
    json: await readFile(path.join(out, 'sbom.cdx.json'), 'utf8'),
    xml: await readFile(path.join(out, 'sbom.cdx.xml'), 'utf8'),
  }
}

for (const name of ['dep-kinds', 'monorepo']) {
  test(`${name}: sbom.cdx.json and sbom.cdx.xml`, async () => {
    const first = await sbomOf(name, 'first')
    assert.deepEqual(await sbomOf(name, 'second'), first, 'two runs give the same bytes')
    await assertCycloneDxJson(first.json)
    await assertCycloneDxXml(first.xml)
    assertGolden(`sbom/${name}.cdx.json`, first.json)
    assertGolden(`sbom/${name}.cdx.xml`, first.xml)
  })
}
