/**
 * What the scan's outputs say to code scanning and to people: SARIF marks an incomplete scan as an
 * unsuccessful execution (never a clean run), locations are relative to the repository's top folder,
 * findings rated by a label only get a `security-severity`, findings are worst first with the direct
 * dependencies to upgrade, and every location names the package's own lock-file entry.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { resolveRepositoryPath } from '../../src/config/index.ts'
import { createLogger, runScan } from '../../src/index.ts'
import { isMajorBump } from '../../src/scan/fix-advice.ts'
import { LabelSecuritySeverity, toSarif } from '../../src/scan/outputs.ts'
import { WorkspaceFiles } from '../../src/workspace/index.ts'
import { assertSarif } from '../golden/golden.ts'
import { makeSbom, type Pkg, tempDir, writeJson } from './helpers.ts'

const log = createLogger({ quiet: true, write: () => {} })
const NOW = new Date('2025-06-01T12:00:00Z')

/** An OSV record for one npm package: every version below `fixed` is affected. */
function record(id: string, name: string, fixed: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    modified: '2024-01-01T00:00:00Z',
    summary: `${id} in ${name}`,
    affected: [
      {
        package: { ecosystem: 'npm', name },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed }] }],
      },
    ],
    ...extra,
  }
}

const cvss = (vector: string) => ({ severity: [{ type: 'CVSS_V3', score: vector }] })
const CRITICAL = cvss('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H') // 9.8
const MEDIUM = cvss('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L') // 5.3

/**
 * root → app-direct@1.0.0 (vulnerable itself; fixed in 2.0.0: a major bump)
 * root → express@4.0.0 → body-parser@1.0.0 (nested under express; fixed in 1.5.0, within ^1.0.0)
 * root → other@1.0.0 → body-parser@1.0.0 (the same install)
 * root → tool@0.3.0 (label-only HIGH; fixed in 0.4.0: a major bump in 0.x)
 */
const PKGS: Pkg[] = [
  { name: 'app-direct', version: '1.0.0' },
  { name: 'express', version: '4.0.0', deps: ['body-parser@1.0.0'] },
  { name: 'other', version: '1.0.0', deps: ['body-parser@1.0.0'] },
  { name: 'body-parser', version: '1.0.0', path: 'node_modules/express/node_modules/body-parser' },
  { name: 'tool', version: '0.3.0' },
]
const ROOT_DEPS = ['app-direct@1.0.0', 'express@4.0.0', 'other@1.0.0', 'tool@0.3.0']

const LOCK = {
  name: 'test-app',
  version: '1.0.0',
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': {
      name: 'test-app',
      version: '1.0.0',
      dependencies: { 'app-direct': '^1.0.0', express: '^4.0.0', other: '^1.0.0', tool: '^0.3.0' },
    },
    'node_modules/app-direct': { version: '1.0.0' },
    'node_modules/express': { version: '4.0.0', dependencies: { 'body-parser': '^1.0.0' } },
    'node_modules/express/node_modules/body-parser': { version: '1.0.0' },
    'node_modules/other': { version: '1.0.0', dependencies: { 'body-parser': '^1.0.0' } },
    'node_modules/tool': { version: '0.3.0' },
  },
}

const RECORDS = [
  record('GHSA-aaaa-aaaa-aaaa', 'app-direct', '2.0.0', MEDIUM),
  record('GHSA-bbbb-bbbb-bbbb', 'body-parser', '1.5.0', CRITICAL),
  record('GHSA-cccc-cccc-cccc', 'tool', '0.4.0', { database_specific: { severity: 'HIGH' } }),
]

/** A project at `<repo>/<sub>` with its lock file and SBOM, and an offline export of RECORDS. */
async function project(dir: string, sub: string, extraPkgs: Pkg[] = []) {
  const cwd = path.join(dir, sub)
  const out = path.join(cwd, '.detbuild')
  await mkdir(out, { recursive: true })
  await writeJson(path.join(cwd, 'package.json'), {
    name: 'test-app',
    version: '1.0.0',
    dependencies: LOCK.packages[''].dependencies,
  })
  await writeJson(path.join(cwd, 'package-lock.json'), LOCK)
  await writeJson(path.join(out, WorkspaceFiles.sbomJson), makeSbom([...PKGS, ...extraPkgs], ROOT_DEPS))
  const db = path.join(dir, 'osv')
  await mkdir(db, { recursive: true })
  for (const r of RECORDS) await writeJson(path.join(db, `${r.id}.json`), r)
  return { cwd, out, db }
}

async function scan(p: { cwd: string; out: string; db: string }, extra: { maxDbAgeDays?: number } = {}) {
  return runScan({
    cwd: p.cwd,
    out: p.out,
    offlineDb: p.db,
    cacheDir: null,
    failOn: null,
    omitDev: false,
    env: { SOURCE_DATE_EPOCH: '1700000000', PATH: process.env.PATH },
    now: NOW,
    log,
    ...extra,
  })
}

const readOut = async (out: string, name: string) => readFile(path.join(out, name), 'utf8')

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'init.defaultBranch=main', ...args], { cwd, stdio: 'ignore' })
}

test('a project in a subfolder of a git repository: SARIF, vulns.json and lines point from the repository top', async () => {
  const t = await tempDir()
  try {
    const sub = 'packages/my app'
    const p = await project(t.dir, sub)
    git(t.dir, 'init', '-q')
    const r = await scan(p)
    assert.equal(r.exitCode, 0)
    assert.deepEqual(r.report.location, { projectPath: sub, file: `${sub}/package-lock.json` })
    const text = await readOut(p.out, WorkspaceFiles.vulnsSarif)
    assertSarif(text)
    const sarif = JSON.parse(text)
    const run = sarif.runs[0]
    assert.deepEqual(Object.keys(run.originalUriBaseIds), ['%SRCROOT%'])
    assert.equal(run.originalUriBaseIds['%SRCROOT%'].uri, undefined, 'no absolute host path')
    for (const res of run.results) {
      const at = res.locations[0].physicalLocation
      // a URI reference: the space is percent-encoded; GitHub decodes it and reads it from the repository root
      assert.equal(at.artifactLocation.uri, 'packages/my%20app/package-lock.json')
      assert.equal(at.artifactLocation.uriBaseId, '%SRCROOT%')
    }
    // body-parser is installed under express: its own entry's line, not a top-level one
    const lockText = await readFile(path.join(p.cwd, 'package-lock.json'), 'utf8')
    const nestedLine =
      lockText.split('\n').findIndex((l) => l.includes('"node_modules/express/node_modules/body-parser"')) + 1
    const bodyParser = run.results.find((x: any) => x.ruleId === 'GHSA-bbbb-bbbb-bbbb')
    assert.equal(bodyParser.locations[0].physicalLocation.region.startLine, nestedLine)
    assert.equal(r.report.findings.find((f) => f.name === 'body-parser')!.line, nestedLine)
    // no output holds the host's temporary folder
    for (const name of await readdir(p.out)) {
      const content = await readOut(p.out, name)
      assert.ok(!content.includes(t.dir), `${name} holds an absolute host path`)
    }
  } finally {
    await t.cleanup()
  }
})

test('outside git, the project folder is the root; an explicit repositoryPath wins', async () => {
  const t = await tempDir()
  try {
    const p = await project(t.dir, 'app')
    const r = await scan(p)
    assert.deepEqual(r.report.location, { projectPath: '.', file: 'package-lock.json' })
    const sarif = JSON.parse(await readOut(p.out, WorkspaceFiles.vulnsSarif))
    assert.equal(
      sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri,
      'package-lock.json',
    )
    const again = await runScan({
      cwd: p.cwd,
      out: p.out,
      offlineDb: p.db,
      cacheDir: null,
      failOn: null,
      omitDev: false,
      env: { SOURCE_DATE_EPOCH: '1700000000' },
      now: NOW,
      log,
      repositoryPath: 'svc/app',
    })
    assert.equal(again.report.location.file, 'svc/app/package-lock.json')
  } finally {
    await t.cleanup()
  }
})

test('findings are worst first, each naming the direct dependencies to upgrade and whether that is a major bump', async () => {
  const t = await tempDir()
  try {
    const p = await project(t.dir, 'app')
    const r = await scan(p)
    const v = JSON.parse(await readOut(p.out, WorkspaceFiles.vulns))
    // critical (9.8), high (label only), medium (5.3)
    assert.deepEqual(
      v.findings.map((f: any) => [f.severity, f.id]),
      [
        ['critical', 'GHSA-bbbb-bbbb-bbbb'],
        ['high', 'GHSA-cccc-cccc-cccc'],
        ['medium', 'GHSA-aaaa-aaaa-aaaa'],
      ],
    )
    const [bodyParser, tool, appDirect] = v.findings
    // pulled in by two direct dependencies; the fix is within ^1.0.0: npm update, no major bump of either
    assert.equal(bodyParser.fixInRange, true)
    assert.deepEqual(bodyParser.upgrade, [
      { name: 'express', version: '4.0.0', to: null, major: false },
      { name: 'other', version: '1.0.0', to: null, major: false },
    ])
    // 0.3.0 → 0.4.0 is a breaking bump in 0.x (outside ^0.3.0)
    assert.deepEqual(tool.upgrade, [{ name: 'tool', version: '0.3.0', to: '0.4.0', major: true }])
    assert.deepEqual(appDirect.upgrade, [{ name: 'app-direct', version: '1.0.0', to: '2.0.0', major: true }])

    // the same order and advice in the markdown, the SARIF and the console summary
    const md = await readOut(p.out, WorkspaceFiles.vulnsMarkdown)
    const rows = md.split('\n').filter((l) => l.includes('GHSA-'))
    assert.deepEqual(
      rows.map((l) => /GHSA-[a-z]{4}-[a-z]{4}-[a-z]{4}/.exec(l)![0]),
      ['GHSA-bbbb-bbbb-bbbb', 'GHSA-cccc-cccc-cccc', 'GHSA-aaaa-aaaa-aaaa'],
    )
    assert.match(rows[0]!, /express 4\.0\.0 \(npm update brings the fix; not major\); other 1\.0\.0/)
    assert.match(rows[2]!, /app-direct 1\.0\.0 → 2\.0\.0 \(MAJOR\)/)
    const sarif = JSON.parse(await readOut(p.out, WorkspaceFiles.vulnsSarif))
    assert.deepEqual(
      sarif.runs[0].results.map((x: any) => x.ruleId),
      ['GHSA-bbbb-bbbb-bbbb', 'GHSA-cccc-cccc-cccc', 'GHSA-aaaa-aaaa-aaaa'],
    )
    assert.match(sarif.runs[0].results[1].message.text, /Upgrade tool 0\.3\.0 → 0\.4\.0 \(MAJOR\)\./)
    const lines = r.text.split('\n')
    const at = (id: string) => lines.findIndex((l) => l.includes(id))
    assert.ok(at('GHSA-bbbb') < at('GHSA-cccc') && at('GHSA-cccc') < at('GHSA-aaaa'), r.text)
    assert.match(lines[at('GHSA-aaaa')]!, /upgrade app-direct 1\.0\.0 → 2\.0\.0 \(MAJOR\)/)
  } finally {
    await t.cleanup()
  }
})

test('a finding rated by a label only gets the security-severity of its band', async () => {
  const t = await tempDir()
  try {
    const p = await project(t.dir, 'app')
    await scan(p)
    const sarif = JSON.parse(await readOut(p.out, WorkspaceFiles.vulnsSarif))
    const rule = (id: string) => sarif.runs[0].tool.driver.rules.find((x: any) => x.id === id)
    assert.equal(rule('GHSA-cccc-cccc-cccc').properties['security-severity'], '8.0')
    // a CVSS score wins over the band
    assert.equal(rule('GHSA-bbbb-bbbb-bbbb').properties['security-severity'], '9.8')
    assert.equal(rule('GHSA-aaaa-aaaa-aaaa').properties['security-severity'], '5.3')
    // each label's value lies inside the band GitHub maps to that label
    const band: Record<string, [number, number]> = {
      critical: [9.0, 10],
      high: [7.0, 8.9],
      medium: [4.0, 6.9],
      low: [0.1, 3.9],
    }
    for (const [label, [lo, hi]] of Object.entries(band)) {
      const value = Number(LabelSecuritySeverity[label as keyof typeof LabelSecuritySeverity])
      assert.ok(value >= lo && value <= hi, `${label}: ${value}`)
    }
    assert.equal(LabelSecuritySeverity.unknown, undefined)
    assert.equal(LabelSecuritySeverity.none, undefined)
  } finally {
    await t.cleanup()
  }
})

test('an incomplete scan: SARIF is an unsuccessful execution with error notifications; no output claims clean', async () => {
  const t = await tempDir()
  try {
    // a package no source can check (an unknown purl type), and an export too old for --max-db-age
    const p = await project(t.dir, 'app', [
      { name: 'thing', version: '1.0.0', purl: 'pkg:unknowntype/thing@1.0.0' },
    ])
    for (const [extra, problem] of [
      [{}, null],
      [{ maxDbAgeDays: 1 }, 'SCAN_EXPORT_STALE'],
    ] as const) {
      const r = await scan(p, extra)
      assert.equal(r.exitCode, 3)
      const text = await readOut(p.out, WorkspaceFiles.vulnsSarif)
      assertSarif(text)
      const run = JSON.parse(text).runs[0]
      assert.equal(run.invocations.length, 1)
      const inv = run.invocations[0]
      assert.equal(inv.executionSuccessful, false)
      const notes = inv.toolExecutionNotifications as any[]
      assert.ok(notes.length >= 2)
      for (const n of notes) assert.equal(n.level, 'error')
      assert.ok(
        notes.some(
          (n) => n.descriptor?.id === 'SCAN_INCOMPLETE' && /not a clean result/.test(n.message.text),
        ),
      )
      assert.ok(notes.some((n) => n.message.text.startsWith('pkg:unknowntype/thing@1.0.0 was not checked: ')))
      if (problem)
        assert.ok(
          notes.some((n) => n.descriptor?.id === problem),
          JSON.stringify(notes),
        )
      assert.equal(run.properties.complete, false)

      const v = JSON.parse(await readOut(p.out, WorkspaceFiles.vulns))
      assert.equal(v.complete, false)
      assert.ok(v.unchecked.includes('pkg:unknowntype/thing@1.0.0'))
      const md = await readOut(p.out, WorkspaceFiles.vulnsMarkdown)
      assert.match(md, /\*\*INCOMPLETE\*\*/)
      assert.doesNotMatch(md, /No known vulnerabilities/)
      assert.match(r.text, /INCOMPLETE: (1 package was|\d+ packages were) NOT checked/)
      assert.doesNotMatch(r.text, /no known vulnerabilities/)
      const st = JSON.parse(await readOut(p.out, WorkspaceFiles.vulnsStatement))
      assert.equal(st.predicate.detbuild.complete, false)
    }
  } finally {
    await t.cleanup()
  }
})

test('a complete scan is a successful execution with no notifications', async () => {
  const t = await tempDir()
  try {
    const p = await project(t.dir, 'app')
    await scan(p)
    const run = JSON.parse(await readOut(p.out, WorkspaceFiles.vulnsSarif)).runs[0]
    assert.deepEqual(run.invocations, [{ executionSuccessful: true }])
  } finally {
    await t.cleanup()
  }
})

test('toSarif: an incomplete report with no findings is never a clean run; many unchecked are capped', () => {
  const unchecked = Array.from({ length: 120 }, (_, i) => `pkg:npm/p${String(i).padStart(3, '0')}@1.0.0`)
  const report = {
    schemaVersion: 1 as const,
    sbom: { file: 'sbom.cdx.json', sha256: '0'.repeat(64) },
    source: { kind: 'api' as const, url: 'https://api.osv.dev', lastUpdate: null },
    complete: false,
    unchecked,
    uncheckedReasons: Object.fromEntries(
      unchecked.map((u) => [u, 'SCAN_OSV_UNAVAILABLE: connection refused']),
    ),
    findings: [],
    counts: { critical: 0, high: 0, medium: 0, low: 0, none: 0, unknown: 0 },
    suppressedCount: 0,
    excludedDev: 0,
    expiredSuppressions: [],
    componentsChecked: 0,
    location: { projectPath: '.', file: 'package-lock.json' },
  }
  const text = JSON.stringify(toSarif(report))
  assertSarif(text)
  const inv = JSON.parse(text).runs[0].invocations[0]
  assert.equal(inv.executionSuccessful, false)
  const notes = inv.toolExecutionNotifications as any[]
  // the summary, 50 packages, and one line for the other 70
  assert.equal(notes.length, 52)
  assert.equal(notes.filter((n) => n.descriptor?.id === 'SCAN_OSV_UNAVAILABLE').length, 50)
  assert.match(notes.at(-1).message.text, /70 more packages not checked/)
})

test('isMajorBump: npm caret semantics; non-semver versions are unknown', () => {
  assert.equal(isMajorBump('1.2.3', '1.9.0'), false)
  assert.equal(isMajorBump('1.2.3', '2.0.0'), true)
  assert.equal(isMajorBump('0.3.1', '0.3.9'), false)
  assert.equal(isMajorBump('0.3.1', '0.4.0'), true)
  assert.equal(isMajorBump('0.0.3', '0.0.4'), true)
  assert.equal(isMajorBump('2.0.0', '1.0.0'), false)
  assert.equal(isMajorBump('1.0.0', 'abc'), null)
  assert.equal(isMajorBump('1.0.0-beta.1', '1.0.0'), false)
})

test('the scan outputs are byte-identical when run twice', async () => {
  const t = await tempDir()
  try {
    const p = await project(t.dir, 'app')
    await scan(p)
    const first = await Promise.all(
      [WorkspaceFiles.vulns, WorkspaceFiles.vulnsSarif, WorkspaceFiles.vulnsMarkdown].map((n) =>
        readOut(p.out, n),
      ),
    )
    await writeFile(path.join(p.out, WorkspaceFiles.vulnsSarif), '')
    await scan(p)
    const second = await Promise.all(
      [WorkspaceFiles.vulns, WorkspaceFiles.vulnsSarif, WorkspaceFiles.vulnsMarkdown].map((n) =>
        readOut(p.out, n),
      ),
    )
    assert.deepEqual(second, first)
  } finally {
    await t.cleanup()
  }
})

test("resolveRepositoryPath: the path from the nearest folder holding .git (a folder, or a worktree's file)", async () => {
  const t = await tempDir()
  try {
    await mkdir(path.join(t.dir, 'plain', 'a b', 'c'), { recursive: true })
    assert.equal(await resolveRepositoryPath(path.join(t.dir, 'plain', 'a b', 'c')), null)
    await mkdir(path.join(t.dir, 'repo', '.git'), { recursive: true })
    await mkdir(path.join(t.dir, 'repo', 'packages', 'x'), { recursive: true })
    assert.equal(await resolveRepositoryPath(path.join(t.dir, 'repo')), '')
    assert.equal(await resolveRepositoryPath(path.join(t.dir, 'repo', 'packages', 'x')), 'packages/x')
    // a linked worktree (or submodule) has a .git file: its own top folder
    await writeFile(path.join(t.dir, 'repo', 'packages', '.git'), 'gitdir: /elsewhere\n')
    assert.equal(await resolveRepositoryPath(path.join(t.dir, 'repo', 'packages', 'x')), 'x')
    assert.equal(await resolveRepositoryPath(path.join(t.dir, 'missing')), null)
  } finally {
    await t.cleanup()
  }
})
