/**
 * Golden files for every file the steps write into the workspace, made from fixed inputs with the
 * programmatic API: fixtures/vulnerable-app (lockfile only), the OSV records of fixtures/osv/records as an
 * offline export, the built-in default policy, a committed Ed25519 test key (Ed25519 signatures are
 * deterministic; no transparency log), SOURCE_DATE_EPOCH 1700000000 and a fixed clock.
 *
 * A real build is not run: build.json and the provenance record the host's isolation mechanism, Node binary
 * and npm version, which differ between machines (and bubblewrap vs unshare). They are made from fixed
 * BuildFacts with the build step's pure writers (toBuildManifest, toProvenance), the config read by the
 * real config loader, and the artifact written where `detbuild build` writes it. The repro report is made
 * from two fixed output sets with the check's own compare and render functions.
 *
 * Each golden is compared byte for byte and schema-validated in the same test; the whole workspace is
 * made twice, in two folders under another time zone, and must come out byte-identical.
 * Rewrite the goldens with DETBUILD_UPDATE_GOLDEN=1 (see docs/testing.md).
 */
import assert from 'node:assert/strict'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { Header } from 'tar'
import { writeReleaseAssets } from '../../src/action/release-assets.ts'
import { ZIP_DEFLATE_LEVEL } from '../../src/builder/archive.ts'
import { compareOutputs, type ReproReport, toReportMarkdown, toVerdict } from '../../src/builder/compare.ts'
import { type BuildFacts, toBuildManifest, toProvenance } from '../../src/builder/manifest.ts'
import { toConfigRecord } from '../../src/config/build-config.ts'
import { loadBuildConfig } from '../../src/config/load-build-config.ts'
import { parseManifest } from '../../src/evidence/manifest.ts'
import {
  createEvidenceBundle,
  createLogger,
  runPolicy,
  runSbom,
  runScan,
  signWorkspace,
} from '../../src/index.ts'
import { toPrivateKey } from '../../src/sign/index.ts'
import { stableJson } from '../../src/util/canonical-json.ts'
import { digestBytes, sha256Hex } from '../../src/util/digest.ts'
import { GZIP_LEVEL } from '../../src/util/tar.ts'
import {
  assertCycloneDxJson,
  assertCycloneDxXml,
  assertGolden,
  assertMarkdown,
  assertOwnSchema,
  assertSarif,
  assertSigstoreBundle,
  ROOT,
} from './golden.ts'

const EPOCH = 1_700_000_000
/** The real clock of the scan and policy steps (suppression expiry, exception dates): fixed. */
const NOW = new Date('2025-06-01T12:00:00Z')
const FIXTURE = path.join(ROOT, 'fixtures', 'vulnerable-app')
const RECORDS = path.join(ROOT, 'fixtures', 'osv', 'records')
const KEY = path.join(ROOT, 'fixtures', 'policy', 'keys', 'signing.key')
const ARTIFACT = 'vulnerable-app.js'
const ARTIFACT_BYTES = Buffer.from("'use strict'\nmodule.exports = require('lodash').kebabCase\n")
const CONFIG = `${JSON.stringify(
  {
    toolchain: { node: 'system' },
    build: ['node build.js'],
    outputs: [`dist/${ARTIFACT}`],
    env: ['NODE_ENV'],
    network: 'deny',
  },
  null,
  2,
)}\n`

const log = createLogger({ quiet: true, write: () => {} })

/** Workspace path → bytes, every file the steps wrote (POSIX paths, sorted). */
type Workspace = Map<string, Buffer>

async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = []
  for (const d of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${d.name}` : d.name
    if (d.isDirectory()) out.push(...(await listFiles(dir, r)))
    else out.push(r)
  }
  return out.sort()
}

/** What `detbuild build --check` would write, from fixed facts (see the file comment for why). */
async function writeBuild(project: string, out: string): Promise<void> {
  await mkdir(path.join(out, 'artifacts'), { recursive: true })
  await writeFile(path.join(out, 'artifacts', ARTIFACT), ARTIFACT_BYTES)
  const same = () => new Map([[ARTIFACT, ARTIFACT_BYTES]])
  const outputs = await compareOutputs(same(), same())
  const variations = [
    { name: 'umask', applied: true, first: '022', second: '077' },
    { name: 'time zone', applied: true, first: 'UTC', second: 'Pacific/Kiritimati' },
    {
      name: 'clock (other processes)',
      applied: false,
      first: 'real time',
      second: '+400 d',
      note: 'faketime is not on PATH',
    },
  ]
  const report: ReproReport = {
    schemaVersion: 1,
    reproducible: true,
    verdict: toVerdict(true, variations, outputs),
    variations,
    fixed: [
      { name: 'LANG', value: 'C.UTF-8', why: 'not in the config’s env allowlist: the same in every build' },
    ],
    outputs,
  }
  await writeFile(path.join(out, 'repro-report.json'), stableJson(report))
  await writeFile(path.join(out, 'repro-report.md'), toReportMarkdown(report))

  const loaded = await loadBuildConfig(project)
  const lock = await readFile(path.join(project, 'package-lock.json'))
  const facts: BuildFacts = {
    source: {
      kind: 'git',
      repo: 'https://github.com/example/vulnerable-app',
      commit: '0123456789abcdef0123456789abcdef01234567',
      dirty: false,
      treeSha256: sha256Hex('the staged source tree'),
      files: 3,
    },
    sourceDateEpoch: EPOCH,
    sourceDateEpochFrom: 'env',
    config: { file: loaded.file, sha256: loaded.sha256, record: toConfigRecord(loaded.config) },
    lockfile: { file: 'package-lock.json', sha256: sha256Hex(lock) },
    toolchain: {
      node: { version: '24.21.0', pinned: false, integrity: null, sha256: sha256Hex('node'), package: null },
      npm: { version: '11.6.2', pinned: false, integrity: null, package: null },
    },
    commands: { install: [...loaded.config.install], build: [...loaded.config.build] },
    env: ['NODE_ENV'],
    fixedEnv: { LANG: 'C.UTF-8', TZ: 'UTC' },
    isolation: {
      requested: 'deny',
      network: 'none',
      mechanism: 'bwrap',
      sealed: true,
      pidNamespace: true,
      extraMounts: [],
      note: null,
    },
    reproducibility: { checked: true, reproducible: true, report: 'repro-report.json' },
    // a fixed zlib version: the golden build.json must not depend on the Node that runs the test
    archives: { gzipLevel: GZIP_LEVEL, zipDeflateLevel: ZIP_DEFLATE_LEVEL, zlib: '1.3.1' },
    outputs: [{ path: `artifacts/${ARTIFACT}`, ...digestBytes(ARTIFACT_BYTES), normalized: null }],
  }
  await writeFile(path.join(out, 'build.json'), stableJson(toBuildManifest(facts)))
  await writeFile(path.join(out, 'provenance.intoto.json'), stableJson(toProvenance(facts)))
}

/** Runs every step into a fresh copy of the fixture under `parent`; returns the workspace's files. */
async function makeWorkspace(parent: string): Promise<Workspace> {
  const project = path.join(parent, 'vulnerable-app')
  await cp(FIXTURE, project, { recursive: true })
  await writeFile(path.join(project, 'detbuild.config.json'), CONFIG)
  const out = path.join(project, '.detbuild')
  await writeBuild(project, out)
  await runSbom({
    cwd: project,
    out,
    from: 'lockfile',
    format: 'both',
    spec: '1.6',
    omit: [],
    workspaces: [],
    validate: true,
    sourceDateEpoch: EPOCH,
    log,
  })
  await runScan({
    cwd: project,
    out,
    offlineDb: RECORDS,
    cacheDir: null,
    failOn: 'high',
    omitDev: false,
    env: { SOURCE_DATE_EPOCH: String(EPOCH) },
    now: NOW,
    log,
  })
  await runPolicy({ cwd: project, out, policy: 'default', signatures: null, now: NOW })
  const signing = {
    mode: 'key' as const,
    privateKey: toPrivateKey(await readFile(KEY, 'utf8'), undefined, 'signing.key'),
    tlog: false,
  }
  await signWorkspace({ out, signing, artifacts: true })
  await createEvidenceBundle({
    cwd: project,
    out,
    signing,
    includeArtifacts: false,
    env: { SOURCE_DATE_EPOCH: String(EPOCH) },
    log,
  })
  // what the Action adds for a release (`release-assets: true`)
  await writeReleaseAssets(out, () => {})
  const files: Workspace = new Map()
  for (const rel of await listFiles(out)) files.set(rel, await readFile(path.join(out, rel)))
  return files
}

/** The members of a tar (ustar headers read with node-tar's Header): name → header facts and bytes. */
function readTar(tar: Buffer): Array<{ header: Header; data: Buffer }> {
  const out: Array<{ header: Header; data: Buffer }> = []
  let at = 0
  while (at + 512 <= tar.length) {
    const header = new Header(tar, at)
    if (header.nullBlock) break
    const size = header.size ?? 0
    out.push({ header, data: tar.subarray(at + 512, at + 512 + size) })
    at += 512 + Math.ceil(size / 512) * 512
  }
  return out
}

/**
 * The evidence archive as text: every tar member's header facts and digest, and the digest of the whole
 * tar stream. The .tar.gz bytes themselves are not a golden: deflate output is zlib's, which may change
 * with the zlib build Node ships; the tar inside is detbuild's own writing.
 */
function toListing(archive: Buffer): string {
  const tar = gunzipSync(archive)
  const lines = readTar(tar).map(({ header: h, data }) => {
    const mode = (h.mode ?? 0).toString(8).padStart(4, '0')
    const mtime = Math.floor((h.mtime?.getTime() ?? 0) / 1000)
    return `${h.type} ${mode} ${h.uid}/${h.gid} ${JSON.stringify(h.uname ?? '')}/${JSON.stringify(h.gname ?? '')} ${mtime} ${data.length} ${sha256Hex(data)} ${h.path}`
  })
  return `${lines.join('\n')}\ntar stream: ${tar.length} bytes, sha256 ${sha256Hex(tar)}\n`
}

let tmp: string
let ws: Workspace
let again: Workspace
const savedTz = process.env.TZ

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'detbuild-golden-'))
  process.env.TZ = 'UTC'
  ws = await makeWorkspace(path.join(tmp, 'a'))
  // another folder, deeper, under a time zone far from UTC: nothing of either may reach an output
  process.env.TZ = 'Pacific/Kiritimati'
  again = await makeWorkspace(path.join(tmp, 'b', 'other place'))
})
after(async () => {
  if (savedTz === undefined) delete process.env.TZ
  else process.env.TZ = savedTz
  await rm(tmp, { recursive: true, force: true })
})

const text = (name: string): string => {
  const bytes = ws.get(name)
  assert.ok(bytes, `the steps wrote no ${name}`)
  return bytes.toString('utf8')
}

/** Every workspace file, the schema (or reader) that validates it, and its golden file name. */
const CHECKS: Array<[name: string, validate: (text: string) => void | Promise<void>]> = [
  ['sbom.cdx.json', assertCycloneDxJson],
  ['sbom.cdx.xml', (t) => assertCycloneDxXml(t)],
  ['vulns.json', (t) => assertOwnSchema('vulns', t)],
  ['vulns.sarif', assertSarif],
  ['vulns.md', assertMarkdown],
  ['sbom.vulns.cdx.json', assertCycloneDxJson],
  ['vulns.intoto.json', (t) => assertOwnSchema('in-toto-statement', t)],
  ['policy.json', (t) => assertOwnSchema('policy-result', t)],
  ['policy.md', assertMarkdown],
  ['build.json', (t) => assertOwnSchema('build', t)],
  ['provenance.intoto.json', (t) => assertOwnSchema('provenance', t)],
  ['repro-report.json', (t) => assertOwnSchema('repro-report', t)],
  ['repro-report.md', assertMarkdown],
  ['signatures.json', (t) => assertOwnSchema('signatures', t)],
  ['provenance.sigstore.json', assertSigstoreBundle],
  ['vulns.sigstore.json', assertSigstoreBundle],
  [`artifacts/${ARTIFACT}.sigstore.json`, assertSigstoreBundle],
]

/** release-assets/ name → the workspace file it copies (the artifacts, as the Action publishes them, flat). */
const RELEASE_COPIES = new Map([
  [ARTIFACT, `artifacts/${ARTIFACT}`],
  [`${ARTIFACT}.sigstore.json`, `artifacts/${ARTIFACT}.sigstore.json`],
  ['evidence.tar.gz', 'evidence.tar.gz'],
  ['provenance.sigstore.json', 'provenance.sigstore.json'],
  ['sbom.cdx.json', 'sbom.cdx.json'],
])

describe('workspace outputs match their golden files and their schemas', () => {
  for (const [name, validate] of CHECKS) {
    test(name, async () => {
      const t = text(name)
      await validate(t)
      assertGolden(`workspace/${name}`, t)
    })
  }

  test('evidence.tar.gz: manifest.json, its signature and the member listing', () => {
    const archive = ws.get('evidence.tar.gz')
    assert.ok(archive, 'no evidence.tar.gz')
    const members = new Map(readTar(gunzipSync(archive)).map((m) => [m.header.path ?? '', m.data]))
    const manifest = members.get('manifest.json')
    assert.ok(manifest, 'no manifest.json in the archive')
    // no JSON Schema in schema/ for it: the reader `verify --evidence` uses is its schema
    const parsed = parseManifest(manifest)
    assert.ok(!('code' in parsed), JSON.stringify(parsed))
    assert.deepEqual(
      parsed.files.map((f) => f.path),
      [...members.keys()].filter((n) => !n.startsWith('manifest.')).sort(),
    )
    assertGolden('evidence/manifest.json', manifest)
    const signature = members.get('manifest.sigstore.json')
    assert.ok(signature, 'no manifest.sigstore.json in the archive')
    assertSigstoreBundle(signature.toString('utf8'))
    assertGolden('evidence/manifest.sigstore.json', signature)
    assertGolden('evidence/listing.txt', toListing(archive))
  })

  test('release-assets/: copies of workspace files, and the signed provenance as one DSSE line', () => {
    for (const [name, from] of RELEASE_COPIES)
      assert.ok(
        ws.get(`release-assets/${name}`)?.equals(ws.get(from)!),
        `release-assets/${name} is not ${from}`,
      )
    const jsonl = text('release-assets/provenance.intoto.jsonl')
    assert.match(jsonl, /^[^\n]+\n$/, 'one line')
    const envelope = JSON.parse(jsonl) as { payloadType: string; payload: string; signatures: unknown[] }
    assert.equal(envelope.payloadType, 'application/vnd.in-toto+json')
    assert.equal(envelope.signatures.length, 1)
    const statement = Buffer.from(envelope.payload, 'base64').toString('utf8')
    assert.equal(statement, text('provenance.intoto.json'), 'the envelope signs the provenance as written')
    assertOwnSchema('provenance', statement)
    assertGolden('workspace/release-assets/provenance.intoto.jsonl', jsonl)
  })

  test('the list of goldens covers every file the steps wrote (but the artifact and the archive)', () => {
    const covered = new Set([
      ...CHECKS.map(([n]) => n),
      `artifacts/${ARTIFACT}`,
      'evidence.tar.gz',
      // copies, checked byte for byte against their originals above
      ...[...RELEASE_COPIES.keys()].map((n) => `release-assets/${n}`),
      'release-assets/provenance.intoto.jsonl',
    ])
    assert.deepEqual(
      [...ws.keys()].filter((n) => !covered.has(n)),
      [],
      'a new output needs a golden file',
    )
  })
})

test('made twice, in another folder and time zone, every output is byte-identical', () => {
  assert.deepEqual([...again.keys()], [...ws.keys()])
  for (const [name, bytes] of ws)
    assert.ok(bytes.equals(again.get(name)!), `${name} differs between two runs on the same inputs`)
})

test('no output names the folder it was made in', () => {
  for (const [name, bytes] of ws) {
    const t = bytes.toString('latin1')
    assert.ok(!t.includes(tmp), `${name} holds the temporary folder's path`)
    // (a home of `/` would be in every path: only a real folder is looked for)
    const home = os.homedir()
    if (home.length > 1) assert.ok(!t.includes(home), `${name} holds the home folder's path`)
  }
})
