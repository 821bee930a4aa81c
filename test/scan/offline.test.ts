import assert from 'node:assert/strict'
import { copyFile, cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { Spec, Validation } from '@cyclonedx/cyclonedx-library'
import { main } from '../../src/cli/main.ts'
import { WorkspaceFiles } from '../../src/workspace/index.ts'
import {
  generatedDir,
  makeSbom,
  makeZip,
  recordsDir,
  tempDir,
  vulnerableApp,
  vulnerableAppSbom,
  writeJson,
} from './helpers.ts'

const NOW = new Date('2026-01-01T00:00:00Z')

async function run(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await main(argv, {
    env: { SOURCE_DATE_EPOCH: '1700000000', ...env },
    cwd: '/',
    stdout: (t) => {
      out += t
    },
    stderr: (t) => {
      err += t
    },
    color: false,
    now: () => NOW,
  })
  return { code, out, err }
}

/** A project folder with the vulnerable-app package.json + lockfile and a workspace holding its SBOM. */
async function vulnerableProject(): Promise<{ dir: string; out: string; cleanup: () => Promise<void> }> {
  const t = await tempDir()
  await cp(vulnerableApp, t.dir, { recursive: true })
  const out = path.join(t.dir, '.detbuild')
  await mkdir(out, { recursive: true })
  await copyFile(vulnerableAppSbom, path.join(out, WorkspaceFiles.sbomJson))
  return { dir: t.dir, out, cleanup: t.cleanup }
}

const readJson = async (file: string): Promise<any> => JSON.parse(await readFile(file, 'utf8'))

test('vulnerable-app offline: the findings are the published advisories, with fix advice and paths', async () => {
  const p = await vulnerableProject()
  try {
    const r = await run(['scan', '-C', p.dir, '--offline-db', recordsDir, '--json'])
    assert.equal(r.code, 0)
    const v = await readJson(path.join(p.out, WorkspaceFiles.vulns))
    assert.equal(v.schemaVersion, 1)
    assert.equal(v.complete, true)
    assert.deepEqual(v.unchecked, [])
    assert.equal(v.source.kind, 'offline')
    assert.match(v.source.exportSha256, /^[0-9a-f]{64}$/)
    assert.deepEqual(
      v.findings.map((f: any) => [f.name, f.version, f.id, f.aliases, f.fixed, f.severity]),
      [
        // worst first
        ['minimist', '1.2.5', 'GHSA-xvch-5gv4-984h', ['CVE-2021-44906'], '1.2.6', 'critical'],
        ['lodash', '4.17.20', 'GHSA-35jh-r3h4-6jhm', ['CVE-2021-23337'], '4.17.21', 'high'],
        ['lodash', '4.17.20', 'GHSA-29mw-wpgm-hmr9', ['CVE-2020-28500'], '4.17.21', 'medium'],
      ],
    )
    const minimist = v.findings[0]
    // the direct dependency to upgrade is the package itself: 1.2.5 → 1.2.6 is not a major bump
    assert.deepEqual(minimist.upgrade, [{ name: 'minimist', version: '1.2.5', to: '1.2.6', major: false }])
    assert.equal(minimist.line, 21, 'the "node_modules/minimist" line of package-lock.json')
    assert.equal(minimist.score, 9.8)
    assert.equal(minimist.direct, true)
    assert.equal(minimist.dev, false)
    assert.equal(minimist.fixInRange, false, 'package.json pins 1.2.5 exactly')
    assert.deepEqual(minimist.paths, [['vulnerable-app', 'minimist']])
    assert.equal(minimist.suppressed, null)
    assert.deepEqual(v.counts, { critical: 1, high: 1, medium: 1, low: 0, none: 0, unknown: 0 })
    assert.equal(JSON.parse(r.out).findings.length, 3)
  } finally {
    await p.cleanup()
  }
})

test('--fail-on: exit 1 at or above the threshold, 0 below it', async () => {
  const p = await vulnerableProject()
  try {
    assert.equal(
      (await run(['scan', '-C', p.dir, '--offline-db', recordsDir, '--fail-on', 'critical'])).code,
      1,
    )
    assert.equal((await run(['scan', '-C', p.dir, '--offline-db', recordsDir, '--fail-on', 'high'])).code, 1)
    const ignore = {
      ignore: [{ id: 'CVE-2021-44906', reason: 'CLI args are trusted', ignoreUntil: '2027-01-01' }],
    }
    await writeJson(path.join(p.dir, 'detbuild.ignore.json'), ignore)
    assert.equal(
      (await run(['scan', '-C', p.dir, '--offline-db', recordsDir, '--fail-on', 'critical'])).code,
      0,
    )
    assert.equal((await run(['scan', '-C', p.dir, '--offline-db', recordsDir, '--fail-on', 'high'])).code, 1)
    assert.equal((await run(['scan', '-C', p.dir, '--fail-on', 'bogus'])).code, 2)
  } finally {
    await p.cleanup()
  }
})

test('every output is byte-identical across two runs', async () => {
  const p = await vulnerableProject()
  try {
    const names = [
      WorkspaceFiles.vulns,
      WorkspaceFiles.vulnsSarif,
      WorkspaceFiles.vulnsMarkdown,
      WorkspaceFiles.vulnsSbom,
      WorkspaceFiles.vulnsStatement,
    ]
    await run(['scan', '-C', p.dir, '--offline-db', recordsDir])
    const first = await Promise.all(names.map((n) => readFile(path.join(p.out, n))))
    await run(['scan', '-C', p.dir, '--offline-db', recordsDir])
    const second = await Promise.all(names.map((n) => readFile(path.join(p.out, n))))
    names.forEach((n, i) => {
      assert.equal(first[i]!.equals(second[i]!), true, n)
    })
    for (const b of first) assert.equal(b.toString().includes(p.dir), false, 'no absolute paths')
  } finally {
    await p.cleanup()
  }
})

test('the enriched SBOM is schema-valid CycloneDX with vulnerabilities tied to bom-refs', async () => {
  const p = await vulnerableProject()
  try {
    await run(['scan', '-C', p.dir, '--offline-db', recordsDir])
    const text = await readFile(path.join(p.out, WorkspaceFiles.vulnsSbom), 'utf8')
    const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6)
    assert.equal(await validator.validate(text), null)
    const bom = JSON.parse(text)
    const m = bom.vulnerabilities.find((x: any) => x.id === 'GHSA-xvch-5gv4-984h')
    assert.deepEqual(m.affects, [
      { ref: 'pkg:npm/minimist@1.2.5', versions: [{ version: '1.2.5', status: 'affected' }] },
    ])
    assert.deepEqual(m.cwes, [1321])
    assert.equal(m.ratings[0].method, 'CVSSv31')
    assert.equal(m.references[0].id, 'CVE-2021-44906')
  } finally {
    await p.cleanup()
  }
})

test('SARIF points at the package line of package-lock.json; the statement is tied to the SBOM digest', async () => {
  const p = await vulnerableProject()
  try {
    await run(['scan', '-C', p.dir, '--offline-db', recordsDir])
    const sarif = await readJson(path.join(p.out, WorkspaceFiles.vulnsSarif))
    assert.equal(sarif.version, '2.1.0')
    const lock = (await readFile(path.join(p.dir, 'package-lock.json'), 'utf8')).split('\n')
    const res = sarif.runs[0].results.find((r: any) => r.ruleId === 'GHSA-xvch-5gv4-984h')
    const loc = res.locations[0].physicalLocation
    assert.equal(loc.artifactLocation.uri, 'package-lock.json')
    assert.match(lock[loc.region.startLine - 1]!, /"node_modules\/minimist": \{/)
    assert.equal(res.level, 'error')
    const rule = sarif.runs[0].tool.driver.rules.find((r: any) => r.id === 'GHSA-xvch-5gv4-984h')
    assert.equal(rule.properties['security-severity'], '9.8')

    const st = await readJson(path.join(p.out, WorkspaceFiles.vulnsStatement))
    const { createHash } = await import('node:crypto')
    const sbomSha = createHash('sha256')
      .update(await readFile(path.join(p.out, WorkspaceFiles.sbomJson)))
      .digest('hex')
    assert.equal(st._type, 'https://in-toto.io/Statement/v1')
    assert.equal(st.predicateType, 'https://in-toto.io/attestation/vulns/v0.1')
    assert.deepEqual(st.subject, [{ name: 'sbom.cdx.json', digest: { sha256: sbomSha } }])
    assert.match(st.predicate.scanner.db.version, /^sha256:[0-9a-f]{64}$/)
    assert.equal(st.predicate.metadata.scanFinishedOn, new Date(1700000000 * 1000).toISOString())
    assert.deepEqual(st.predicate.scanner.result.map((x: any) => x.id).sort(), [
      'GHSA-29mw-wpgm-hmr9',
      'GHSA-35jh-r3h4-6jhm',
      'GHSA-xvch-5gv4-984h',
    ])
    const md = await readFile(path.join(p.out, WorkspaceFiles.vulnsMarkdown), 'utf8')
    assert.match(md, /\| critical \(9\.8\) \| `minimist@1\.2\.5` \|/)
  } finally {
    await p.cleanup()
  }
})

test('a zip export gives the same findings as the folder; a malformed export exits 2', async () => {
  const p = await vulnerableProject()
  try {
    const files = (await readdir(recordsDir)).sort()
    const zip = makeZip(
      await Promise.all(
        files.map(async (f) => ({ name: f, data: await readFile(path.join(recordsDir, f)) })),
      ),
    )
    await writeFile(path.join(p.dir, 'all.zip'), zip)
    await run(['scan', '-C', p.dir, '--offline-db', recordsDir])
    const fromDir = await readJson(path.join(p.out, WorkspaceFiles.vulns))
    assert.equal((await run(['scan', '-C', p.dir, '--offline-db', 'all.zip'])).code, 0)
    const fromZip = await readJson(path.join(p.out, WorkspaceFiles.vulns))
    assert.deepEqual(fromZip.findings, fromDir.findings)
    assert.equal(fromZip.source.export, 'all.zip')

    await writeFile(path.join(p.dir, 'bad.zip'), zip.subarray(0, zip.length - 30))
    const bad = await run(['scan', '-C', p.dir, '--offline-db', 'bad.zip', '--json'])
    assert.equal(bad.code, 2)
    assert.equal(JSON.parse(bad.out).error.code, 'SCAN_EXPORT_INVALID')
    await mkdir(path.join(p.dir, 'db'))
    await writeFile(path.join(p.dir, 'db', 'x.json'), '{"id": "X", ')
    const badJson = await run(['scan', '-C', p.dir, '--offline-db', 'db', '--json'])
    assert.equal(badJson.code, 2)
    assert.equal(JSON.parse(badJson.out).error.code, 'SCAN_EXPORT_INVALID')
  } finally {
    await p.cleanup()
  }
})

test('a withdrawn record produces no finding', async () => {
  const p = await vulnerableProject()
  try {
    await mkdir(path.join(p.dir, 'db'))
    await copyFile(
      path.join(generatedDir, 'GHSA-xvch-5gv4-984h.withdrawn-variant.json'),
      path.join(p.dir, 'db', 'GHSA-xvch-5gv4-984h.json'),
    )
    // on its own, a withdrawn record leaves the export with no usable npm record: not a clean scan
    assert.equal((await run(['scan', '-C', p.dir, '--offline-db', 'db', '--fail-on', 'any'])).code, 3)
    await copyFile(
      path.join(recordsDir, 'GHSA-p6mc-m468-83gw.json'),
      path.join(p.dir, 'db', 'GHSA-p6mc-m468-83gw.json'),
    )
    assert.equal((await run(['scan', '-C', p.dir, '--offline-db', 'db', '--fail-on', 'any'])).code, 0)
    const v = await readJson(path.join(p.out, WorkspaceFiles.vulns))
    assert.deepEqual(v.findings, [])
    assert.deepEqual(v.source.records, { npm: 1 }, 'the withdrawn record is not counted')
  } finally {
    await p.cleanup()
  }
})

test('bad input exits 2 with a stable code: missing or malformed SBOM, bad ignore file', async () => {
  const t = await tempDir()
  try {
    const missing = await run(['scan', '-C', t.dir, '--offline-db', recordsDir, '--json'])
    assert.equal(missing.code, 2)
    assert.equal(JSON.parse(missing.out).error.code, 'SCAN_SBOM_MISSING')
    await writeFile(path.join(t.dir, 'sbom.json'), '{"bomFormat": "SPDX"}')
    const wrong = await run([
      'scan',
      '-C',
      t.dir,
      '--sbom',
      'sbom.json',
      '--offline-db',
      recordsDir,
      '--json',
    ])
    assert.equal(JSON.parse(wrong.out).error.code, 'SCAN_SBOM_INVALID')
    await writeFile(path.join(t.dir, 'sbom.json'), '{"bomFormat": ')
    const broken = await run([
      'scan',
      '-C',
      t.dir,
      '--sbom',
      'sbom.json',
      '--offline-db',
      recordsDir,
      '--json',
    ])
    assert.equal(broken.code, 2)
    assert.equal(JSON.parse(broken.out).error.code, 'SCAN_SBOM_INVALID')
    await writeJson(
      path.join(t.dir, 'sbom.json'),
      makeSbom([{ name: 'minimist', version: '1.2.5' }], ['minimist@1.2.5']),
    )
    await writeJson(path.join(t.dir, 'detbuild.ignore.json'), { ignore: [{ id: 'GHSA-xvch-5gv4-984h' }] })
    const ign = await run(['scan', '-C', t.dir, '--sbom', 'sbom.json', '--offline-db', recordsDir, '--json'])
    assert.equal(ign.code, 2)
    assert.equal(JSON.parse(ign.out).error.code, 'SCAN_IGNORE_FILE_INVALID')
    await writeFile(path.join(t.dir, 'detbuild.ignore.json'), '{"ignore": []}')
    await writeFile(path.join(t.dir, 'osv-scanner.toml'), '[[IgnoredVulns]\nid = ')
    const toml = await run(['scan', '-C', t.dir, '--sbom', 'sbom.json', '--offline-db', recordsDir, '--json'])
    assert.equal(JSON.parse(toml.out).error.code, 'SCAN_IGNORE_FILE_INVALID')
  } finally {
    await t.cleanup()
  }
})

test('suppressions: detbuild YAML and osv-scanner.toml apply until they expire, then say so', async () => {
  const t = await tempDir()
  try {
    await writeJson(
      path.join(t.dir, 'sbom.json'),
      makeSbom(
        [
          { name: 'minimist', version: '1.2.5' },
          { name: 'lodash', version: '4.17.20' },
        ],
        ['minimist@1.2.5', 'lodash@4.17.20'],
      ),
    )
    await writeFile(
      path.join(t.dir, 'detbuild.ignore.yaml'),
      'ignore:\n  - id: GHSA-xvch-5gv4-984h\n    reason: only parses our own CLI flags\n    ignoreUntil: "2027-01-01"\n    package: minimist\n',
    )
    await writeFile(
      path.join(t.dir, 'osv-scanner.toml'),
      '[[IgnoredVulns]]\nid = "CVE-2021-23337"\nignoreUntil = 2025-06-01\nreason = "template() unused"\n\n[[IgnoredVulns]]\nid = "GHSA-29mw-wpgm-hmr9"\nreason = "no untrusted strings"\n',
    )
    const r = await run(['scan', '-C', t.dir, '--sbom', 'sbom.json', '--offline-db', recordsDir])
    assert.equal(r.code, 0)
    assert.match(r.err, /CVE-2021-23337.*expired/)
    const v = await readJson(path.join(t.dir, '.detbuild', WorkspaceFiles.vulns))
    const by = new Map(v.findings.map((f: any) => [f.id, f.suppressed]))
    assert.deepEqual(by.get('GHSA-xvch-5gv4-984h'), {
      reason: 'only parses our own CLI flags',
      until: '2027-01-01',
      source: 'detbuild',
    })
    assert.equal(by.get('GHSA-35jh-r3h4-6jhm'), null, 'expired on 2025-06-01')
    assert.deepEqual(by.get('GHSA-29mw-wpgm-hmr9'), {
      reason: 'no untrusted strings',
      until: null,
      source: 'osv-scanner.toml',
    })
    assert.deepEqual(v.expiredSuppressions, [
      { id: 'CVE-2021-23337', until: '2025-06-01', source: 'osv-scanner.toml' },
    ])
    assert.equal(v.suppressedCount, 2)
    assert.deepEqual(v.counts, { critical: 0, high: 1, medium: 0, low: 0, none: 0, unknown: 0 })
    const sarif = await readJson(path.join(t.dir, '.detbuild', WorkspaceFiles.vulnsSarif))
    assert.equal(sarif.runs[0].results.filter((x: any) => x.suppressions).length, 2)
  } finally {
    await t.cleanup()
  }
})

test('transitive and dev dependencies: paths from the root, fix within range, --omit dev', async () => {
  const t = await tempDir()
  try {
    const sbom = makeSbom(
      [
        { name: 'mkdirp', version: '0.5.5', deps: ['minimist@1.2.5'] },
        { name: 'minimist', version: '1.2.5' },
        { name: 'semver', version: '7.5.1', dev: true },
        { name: 'request', version: '2.88.2' },
      ],
      ['mkdirp@0.5.5', 'semver@7.5.1', 'request@2.88.2'],
    )
    await writeJson(path.join(t.dir, 'sbom.json'), sbom)
    await writeJson(path.join(t.dir, 'package-lock.json'), {
      name: 'test-app',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': {
          name: 'test-app',
          version: '1.0.0',
          dependencies: { mkdirp: '^0.5.5', request: '^2.88.0' },
          devDependencies: { semver: '^7.0.0' },
        },
        'node_modules/minimist': { version: '1.2.5' },
        'node_modules/mkdirp': { version: '0.5.5', dependencies: { minimist: '^1.2.5' } },
        'node_modules/request': { version: '2.88.2' },
        'node_modules/semver': { version: '7.5.1', dev: true },
      },
    })
    await run(['scan', '-C', t.dir, '--sbom', 'sbom.json', '--offline-db', recordsDir])
    const v = await readJson(path.join(t.dir, '.detbuild', WorkspaceFiles.vulns))
    const by = new Map(v.findings.map((f: any) => [f.name, f]))
    const m: any = by.get('minimist')
    assert.equal(m.direct, false)
    assert.deepEqual(m.paths, [['test-app', 'mkdirp', 'minimist']])
    assert.equal(m.fixInRange, true, '^1.2.5 allows 1.2.6: npm update fixes it')
    const s: any = by.get('semver')
    assert.equal(s.dev, true)
    assert.equal(s.fixed, '7.5.2')
    assert.equal(s.fixInRange, true)
    const r: any = by.get('request')
    assert.equal(r.fixed, null, 'last_affected only: no fix')
    assert.equal(r.fixInRange, null)

    await run(['scan', '-C', t.dir, '--sbom', 'sbom.json', '--offline-db', recordsDir, '--omit', 'dev'])
    const w = await readJson(path.join(t.dir, '.detbuild', WorkspaceFiles.vulns))
    assert.equal(
      w.findings.some((f: any) => f.name === 'semver'),
      false,
    )
    assert.equal(w.excludedDev, 1)
  } finally {
    await t.cleanup()
  }
})

test('components that cannot be checked make the scan incomplete (exit 3), never clean', async () => {
  const t = await tempDir()
  try {
    const sbom = makeSbom(
      [
        { name: 'left-pad', version: '1.3.0' },
        { name: 'local-thing', version: '1.0.0', purl: null },
        { name: 'requests', version: '2.0.0', purl: 'pkg:pypi/requests@2.0.0' },
      ],
      ['left-pad@1.3.0'],
    )
    await writeJson(path.join(t.dir, 'sbom.json'), sbom)
    const r = await run(['scan', '-C', t.dir, '--sbom', 'sbom.json', '--offline-db', recordsDir])
    assert.equal(r.code, 3)
    assert.match(r.out, /INCOMPLETE/)
    assert.doesNotMatch(r.out, /no known vulnerabilities/)
    const v = await readJson(path.join(t.dir, '.detbuild', WorkspaceFiles.vulns))
    assert.equal(v.complete, false)
    assert.deepEqual(v.unchecked, ['local-thing@1.0.0', 'pkg:pypi/requests@2.0.0'])
    const md = await readFile(path.join(t.dir, '.detbuild', WorkspaceFiles.vulnsMarkdown), 'utf8')
    assert.match(md, /INCOMPLETE/)
    assert.doesNotMatch(md, /No known vulnerabilities/)
  } finally {
    await t.cleanup()
  }
})
