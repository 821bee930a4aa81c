/**
 * The ecosystem seam: a fake ecosystem (its own purl type, OSV name and version order) registered in a
 * test is used by the SBOM step to read a project and by the scan step to match versions, without any
 * change to sbom/ or scan/; a purl type no ecosystem knows leaves the scan incomplete (exit 3).
 */
import assert from 'node:assert/strict'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import {
  createRegistry,
  defaultEcosystems,
  type Ecosystem,
  goEcosystem,
  type Inventory,
  type InventoryNode,
  inRangeWith,
  npmEcosystem,
  SERVER_MATCHED,
  semverOrder,
} from '../../src/ecosystems/index.ts'
import { makeSbom } from '../../src/sbom/index.ts'
import { uncheckableReason } from '../../src/scan/checkable.ts'
import { runScan, type ScanOptions } from '../../src/scan/index.ts'
import { toSbomInput } from '../../src/scan/sbom-input.ts'
import { silentLogger } from '../../src/util/log.ts'
import { WorkspaceFiles } from '../../src/workspace/index.ts'
import { tempDir, writeJson } from '../scan/helpers.ts'

/** Versions of the fake ecosystem: Greek letters, ordered as the alphabet (not as strings: "delta" < "gamma"). */
const LETTERS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon']
const greekOrder = {
  parse: (v: string) => (LETTERS.includes(v) ? LETTERS.indexOf(v) : null),
  compare: (a: number, b: number) => a - b,
}

function node(name: string, version: string, deps: string[] = []): InventoryNode {
  return {
    key: name === 'app' ? '' : `deps/${name}`,
    name,
    version,
    location: name === 'app' ? '' : `deps/${name}`,
    kind: name === 'app' ? 'root' : 'registry',
    resolved: undefined,
    integrity: undefined,
    dev: false,
    optional: false,
    devOptional: false,
    peer: false,
    extraneous: false,
    bundled: false,
    manifest: { name, version },
    deps,
  }
}

const fake: Ecosystem = {
  id: 'fake',
  purlType: 'fake',
  osvEcosystem: 'Fake',
  manifestFile: 'fake.mod',
  scheme: 'greek',
  isValidVersion: (v) => greekOrder.parse(v) !== null,
  compareVersions: (a, b) => greekOrder.compare(greekOrder.parse(a)!, greekOrder.parse(b)!),
  inRange: inRangeWith(greekOrder),
  detect: async (dir) => {
    try {
      await readFile(path.join(dir, 'fake.lock'))
      return true
    } catch {
      return false
    }
  },
  readInventory: async (): Promise<Inventory> => {
    const root = node('app', 'beta', ['deps/thing'])
    const thing = node('thing', 'gamma')
    return {
      root,
      nodes: new Map([
        [root.key, root],
        [thing.key, thing],
      ]),
      warnings: [],
      lockfile: 'fake.lock',
      lockfileVersion: 1,
      source: 'lockfile',
      workspaces: new Map(),
    }
  },
  toPurl: (n) => `pkg:fake/${n.name}@${n.version}`,
}

const withFake = createRegistry([npmEcosystem, fake], {
  serverMatched: SERVER_MATCHED,
  fallbackOrder: semverOrder,
})

/** One OSV record for Fake/thing: affected from beta, fixed in delta (a string order would disagree). */
const RECORD = {
  id: 'FAKE-2026-1',
  modified: '2025-12-01T00:00:00Z',
  summary: 'thing is broken',
  affected: [
    {
      package: { ecosystem: 'Fake', name: 'thing' },
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: 'beta' }, { fixed: 'delta' }] }],
    },
  ],
}

function sbomOf(purls: string[]): Record<string, unknown> {
  const root = 'pkg:fake/app@alpha'
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    metadata: {
      component: { type: 'application', 'bom-ref': root, name: 'app', version: 'alpha', purl: root },
    },
    components: purls.map((purl) => ({
      type: 'library',
      'bom-ref': purl,
      name: purl.split(/[/@]/)[1],
      purl,
    })),
    dependencies: [{ ref: root, dependsOn: purls }],
  }
}

async function scan(purls: string[], ecosystems?: ScanOptions['ecosystems'], projectFiles: string[] = []) {
  const t = await tempDir('detbuild-ecosystems-')
  try {
    await mkdir(path.join(t.dir, 'export'))
    await writeFile(path.join(t.dir, 'export', 'FAKE-2026-1.json'), JSON.stringify(RECORD))
    await writeJson(path.join(t.dir, 'sbom.json'), sbomOf(purls))
    for (const f of projectFiles) await writeFile(path.join(t.dir, f), '')
    const out = path.join(t.dir, '.detbuild')
    const r = await runScan({
      cwd: t.dir,
      out,
      sbom: 'sbom.json',
      offlineDb: 'export',
      cacheDir: null,
      failOn: null,
      omitDev: false,
      env: { SOURCE_DATE_EPOCH: '1700000000' },
      now: new Date('2026-01-01T00:00:00Z'),
      log: silentLogger,
      ...(ecosystems ? { ecosystems } : {}),
    })
    const vulns = JSON.parse(await readFile(path.join(out, WorkspaceFiles.vulns), 'utf8'))
    const sarif = JSON.parse(await readFile(path.join(out, WorkspaceFiles.vulnsSarif), 'utf8'))
    return { ...r, vulns, sarif }
  } finally {
    await t.cleanup()
  }
}

test('a registered ecosystem matches its own components with its own version order', async () => {
  const r = await scan(['pkg:fake/thing@alpha', 'pkg:fake/thing@gamma', 'pkg:fake/thing@epsilon'], withFake)
  assert.equal(r.exitCode, 0)
  assert.equal(r.report.complete, true)
  assert.equal(r.report.componentsChecked, 3)
  assert.deepEqual(
    r.report.findings.map((f) => [f.id, f.purl, f.fixed]),
    [['FAKE-2026-1', 'pkg:fake/thing@gamma', 'delta']],
    'gamma is in [beta, delta) in the Greek order (not in string order); alpha and epsilon are not',
  )
  assert.deepEqual(r.vulns.source.records, { Fake: 1 })
})

test('an invalid version of a registered ecosystem and an unknown purl type make the scan incomplete', async () => {
  const r = await scan(['pkg:fake/thing@beta', 'pkg:fake/thing@omega', 'pkg:zzz/thing@1.0.0'], withFake)
  assert.equal(r.exitCode, 3)
  assert.equal(r.report.complete, false)
  assert.deepEqual(r.report.uncheckedReasons, {
    'pkg:fake/thing@omega': 'version "omega" is not a greek version',
    'pkg:zzz/thing@1.0.0': 'package type not supported by OSV matching',
  })
  assert.equal(r.report.findings.length, 1, 'what could be checked is still reported')
  assert.match(r.text, /INCOMPLETE: 2 packages were NOT checked/)
})

test('without the adapter the same components are unchecked (exit 3), never clean', async () => {
  const r = await scan(['pkg:fake/thing@alpha', 'pkg:fake/thing@beta'])
  assert.equal(r.exitCode, 3)
  assert.deepEqual(r.report.unchecked, ['pkg:fake/thing@alpha', 'pkg:fake/thing@beta'])
  assert.equal(r.report.uncheckedReasons['pkg:fake/thing@beta'], 'package type not supported by OSV matching')
  assert.equal(r.report.findings.length, 0)
  assert.doesNotMatch(r.text, /no known vulnerabilities/)
})

test('offline, a server-matched type without an adapter is unchecked; the message names the adapters', () => {
  const pypi = { ecosystem: 'PyPI', version: '2.0.0' }
  assert.equal(uncheckableReason(pypi, defaultEcosystems, false), null, 'the OSV API matches it')
  assert.equal(
    uncheckableReason(pypi, defaultEcosystems, true),
    'offline matching supports npm, go packages only',
  )
  assert.equal(uncheckableReason(pypi, withFake, true), 'offline matching supports npm, fake packages only')
  assert.equal(
    uncheckableReason({ ecosystem: null, version: '1' }, withFake, false),
    'package type not supported by OSV matching',
  )
  assert.equal(
    uncheckableReason({ ecosystem: 'npm', version: 'latest' }, withFake, false),
    'version "latest" is not a semver version',
  )
})

test('the SBOM step reads a project with the ecosystem that detects it', async () => {
  const t = await tempDir('detbuild-ecosystems-')
  try {
    await writeFile(path.join(t.dir, 'fake.lock'), '')
    const made = await makeSbom({
      cwd: t.dir,
      from: 'lockfile',
      format: 'json',
      spec: '1.6',
      omit: [],
      workspaces: [],
      validate: false,
      sourceDateEpoch: 1_700_000_000,
      ecosystems: withFake,
    })
    const doc = JSON.parse(made.serialized.json)
    assert.equal(doc.metadata.component.purl, 'pkg:fake/app@beta')
    assert.deepEqual(
      doc.components.map((c: any) => [c['bom-ref'], c.purl]),
      [['pkg:fake/thing@gamma', 'pkg:fake/thing@gamma']],
    )
    assert.deepEqual(doc.dependencies, [
      { ref: 'pkg:fake/app@beta', dependsOn: ['pkg:fake/thing@gamma'] },
      { ref: 'pkg:fake/thing@gamma' },
    ])
    // no fake.lock, no package.json: nothing detects the folder, so the first registered (npm) reader
    // names what is missing
    const empty = await tempDir('detbuild-ecosystems-')
    try {
      await assert.rejects(
        makeSbom({
          cwd: empty.dir,
          from: 'lockfile',
          format: 'json',
          spec: '1.6',
          omit: [],
          workspaces: [],
          validate: false,
          sourceDateEpoch: 0,
          ecosystems: withFake,
        }),
        { code: 'SBOM_PACKAGE_JSON_UNREADABLE', exitCode: 2 },
      )
    } finally {
      await empty.cleanup()
    }
  } finally {
    await t.cleanup()
  }
})

test('registry lookups: by id, purl type, OSV name (base part); an adapter takes over a server-matched type', () => {
  assert.equal(withFake.byId('fake'), fake)
  assert.equal(withFake.byPurlType('fake'), fake)
  assert.equal(withFake.byOsvEcosystem('Fake:1'), fake)
  assert.equal(withFake.byPurlType('pypi'), undefined)
  assert.equal(withFake.osvEcosystemForPurlType('pypi'), 'PyPI')
  assert.equal(withFake.osvEcosystemForPurlType('zzz'), null)
  assert.equal(withFake.versionsFor('Fake'), fake)
  assert.equal(withFake.versionsFor('PyPI'), semverOrder, 'fix advice for server-matched ecosystems')
  const pypi: Ecosystem = { ...fake, id: 'pypi', purlType: 'pypi', osvEcosystem: 'PyPI' }
  const taken = createRegistry([pypi], { serverMatched: SERVER_MATCHED, fallbackOrder: semverOrder })
  assert.equal(taken.osvEcosystemForPurlType('pypi'), 'PyPI')
  assert.equal(taken.byOsvEcosystem('PyPI'), pypi)
  assert.equal(defaultEcosystems.byPurlType('npm'), npmEcosystem)
  assert.equal(defaultEcosystems.osvEcosystemForPurlType('npm'), 'npm')
  assert.equal(
    defaultEcosystems.osvEcosystemForPurlType('golang'),
    'Go',
    'Go: its adapter took the type over',
  )
  assert.equal(defaultEcosystems.byPurlType('golang'), goEcosystem)
  assert.equal(defaultEcosystems.versionsFor('Go'), goEcosystem, "Go's own version order, not semver's")
  assert.equal(SERVER_MATCHED.golang, undefined, 'no longer left to the OSV API alone')
})

test('a registry with no ecosystem, or two claiming one purl type, is a bug (exit 70) found when it is made', () => {
  assert.throws(() => createRegistry([], { fallbackOrder: semverOrder }), {
    code: 'ECOSYSTEM_REGISTRY_EMPTY',
    exitCode: 70,
  })
  assert.throws(
    () =>
      createRegistry([fake, { ...fake, id: 'other', osvEcosystem: 'Other' }], { fallbackOrder: semverOrder }),
    { code: 'ECOSYSTEM_DUPLICATE', exitCode: 70, message: /purl type "fake"/ },
  )
  assert.throws(() => createRegistry([npmEcosystem, { ...npmEcosystem }], { fallbackOrder: semverOrder }), {
    code: 'ECOSYSTEM_DUPLICATE',
  })
})

test('npm version matching is semver, pure: data in, data out', () => {
  const range = { type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.2.6' }] }
  assert.deepEqual(npmEcosystem.inRange('1.2.5', range), {
    affected: true,
    fixed: '1.2.6',
    unparsable: false,
  })
  assert.deepEqual(npmEcosystem.inRange('1.2.6', range), { affected: false, fixed: null, unparsable: false })
  assert.equal(npmEcosystem.inRange('1.0.0-rc.1', range).affected, true, '"0" is below every prerelease')
  assert.deepEqual(npmEcosystem.inRange('not a version', range), {
    affected: false,
    fixed: null,
    unparsable: false,
  })
  assert.equal(npmEcosystem.inRange('1.0.0', { type: 'GIT', events: [{ introduced: '0' }] }).affected, false)
  assert.ok(npmEcosystem.compareVersions('1.10.0', '1.9.0') > 0)
  assert.equal(npmEcosystem.isValidVersion('1.2'), false)
})

test("an ecosystem's name hook spells its components' names; other types keep the purl's namespace/name", () => {
  const shouting: Ecosystem = {
    ...fake,
    componentName: (_c, _purl, _paths, fromPurl) => ({ name: fromPurl.toUpperCase(), exactName: false }),
  }
  const registry = createRegistry([shouting], { serverMatched: SERVER_MATCHED, fallbackOrder: semverOrder })
  const input = toSbomInput(
    sbomOf(['pkg:fake/ns/thing@beta', 'pkg:pypi/requests@2.0.0']),
    'sbom.json',
    registry,
  )
  assert.deepEqual(
    input.components.map((c) => [c.purl, c.name, c.exactName, c.ecosystem]),
    [
      ['pkg:fake/ns/thing@beta', 'NS/THING', false, 'Fake'],
      ['pkg:pypi/requests@2.0.0', 'requests', true, 'PyPI'],
    ],
  )
})

test("the scan takes lock-file advice and SARIF locations from the project's ecosystem", async () => {
  const asked: string[] = []
  const locked: Ecosystem = {
    ...fake,
    readProjectLock: async (dir) => {
      asked.push(path.basename(dir))
      return {
        file: 'fake.lock',
        lineOf: (name) => (name === 'thing' ? 7 : null),
        spelling: () => null,
        fixWithinDeclared: (fixed, c) => fixed === 'delta' && c.name === 'thing',
      }
    },
  }
  const registry = createRegistry([npmEcosystem, locked], {
    serverMatched: SERVER_MATCHED,
    fallbackOrder: semverOrder,
  })
  const r = await scan(['pkg:fake/thing@gamma'], registry, ['fake.lock'])
  assert.equal(asked.length, 1, 'the lock file is read once')
  assert.equal(r.report.findings[0]!.fixInRange, true)
  const location = r.sarif.runs[0].results[0].locations[0].physicalLocation
  assert.equal(location.artifactLocation.uri, 'fake.lock')
  assert.equal(location.region.startLine, 7)
  // an ecosystem without lock-file support: no advice, and the location is its manifest
  const bare = await scan(['pkg:fake/thing@gamma'], withFake, ['fake.lock'])
  assert.equal(bare.report.findings[0]!.fixInRange, null)
  const at = bare.sarif.runs[0].results[0].locations[0].physicalLocation
  assert.equal(at.artifactLocation.uri, 'fake.mod')
  assert.equal(at.region, undefined)
})
