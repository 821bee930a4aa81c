/**
 * The typed workspace readers and writers: each reader accepts what its writer wrote (byte for byte the
 * serialization detbuild has always used) and refuses a file its schema refuses, exit 2, in one line
 * naming the file and the JSON path, with the file's own code; bundle's validation refuses the same file.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { type ErrorCode, InputError } from '../../src/errors.ts'
import { validateFiles } from '../../src/evidence/validate-files.ts'
import { stableJson } from '../../src/util/canonical-json.ts'
import {
  parseBuildManifest,
  parseInTotoStatement,
  parsePolicyResult,
  parseProvenance,
  parseReproReport,
  parseSignatures,
  parseVulnsReport,
  parseVulnsStatement,
  readBuildManifest,
  readPolicyResult,
  readProvenance,
  readReproReport,
  readSignatures,
  readVulnsReport,
  readVulnsStatement,
  signaturesFile,
  toJsonPath,
  WorkspaceSchemaError,
  writeBuildManifest,
  writePolicyResult,
  writeProvenance,
  writeReproReport,
  writeVulnsReport,
  writeVulnsStatement,
} from '../../src/workspace/index.ts'
import { tempDir } from '../helpers/paths.ts'

const hex = (c: string, n: number) => c.repeat(n)

const build = {
  schemaVersion: 1,
  sourceDateEpoch: 1700000000,
  reproducibility: { checked: false, reproducible: null, report: null },
  outputs: [
    {
      path: 'artifacts/app-1.0.0.tgz',
      size: 10,
      sha256: hex('a', 64),
      sha512: hex('b', 128),
      integrity: `sha512-${'A'.repeat(86)}==`,
      normalized: 'tgz',
    },
  ],
} as const

const provenance = {
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: 'app-1.0.0.tgz', digest: { sha256: hex('a', 64), sha512: hex('b', 128) } }],
  predicateType: 'https://slsa.dev/provenance/v1',
  predicate: {
    buildDefinition: { buildType: 'https://detbuild.dev/build-types/npm/v1', externalParameters: {} },
    runDetails: { builder: { id: 'https://detbuild.dev/builders/local/v1' }, metadata: {} },
  },
} as const

const reproReport = {
  schemaVersion: 1,
  reproducible: true,
  verdict: 'reproducible under 0 variations',
  fixed: [],
  variations: [],
  outputs: [
    { name: 'app-1.0.0.tgz', status: 'identical', sha256: { first: hex('a', 64), second: hex('a', 64) } },
  ],
} as const

const vulns = {
  schemaVersion: 1,
  sbom: { file: 'sbom.cdx.json', sha256: hex('c', 64) },
  source: { kind: 'api', url: 'https://api.osv.dev' },
  complete: true,
  unchecked: [],
  findings: [],
  counts: { critical: 0, high: 0, medium: 0, low: 0, none: 0, unknown: 0 },
} as const

const vulnsStatement = {
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: 'sbom.cdx.json', digest: { sha256: hex('c', 64) } }],
  predicateType: 'https://cyclonedx.org/vex',
  predicate: {},
} as const

const policy = {
  schemaVersion: 1,
  policy: { name: 'strict', source: 'builtin:strict', sha256: hex('d', 64) },
  evaluatedAt: '2023-11-14T22:13:20.000Z',
  verdict: 'pass',
  counts: { pass: 1, warn: 0, fail: 0 },
  inputs: { sbom: { file: '.detbuild/sbom.cdx.json', sha256: hex('c', 64) }, vulns: null },
  rules: [{ id: 'sbom.present', title: 'SBOM', status: 'pass', summary: 'ok', evidence: {} }],
  exceptions: [],
} as const

const signatures = {
  schemaVersion: 1,
  bundles: [
    {
      file: 'provenance.sigstore.json',
      kind: 'dsse',
      subject: 'provenance.intoto.json',
      sha256: hex('e', 64),
      signer: { type: 'key', keyId: 'abc' },
      tlog: false,
    },
  ],
} as const

/** A copy of `doc` with `value` at `keys` (the wrong type at a known JSON path). */
function withAt(doc: object, keys: Array<string | number>, value: unknown): unknown {
  const copy = structuredClone(doc) as Record<string | number, unknown>
  let at: Record<string | number, unknown> = copy
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string | number, unknown>
  at[keys.at(-1)!] = value
  return copy
}

interface Case {
  file: string
  code: ErrorCode
  good: object
  write: (dir: string, value: never) => Promise<void>
  read: (dir: string, o?: { code?: ErrorCode; display?: string }) => Promise<unknown>
  parse: (bytes: Uint8Array, name?: string, code?: ErrorCode) => unknown
  /** the wrong type at this path */
  bad: { keys: Array<string | number>; value: unknown; path: string }
}

const CASES: Case[] = [
  {
    file: 'build.json',
    code: 'WORKSPACE_BUILD_INVALID',
    good: build,
    write: writeBuildManifest,
    read: readBuildManifest,
    parse: parseBuildManifest,
    bad: { keys: ['outputs', 0, 'size'], value: '10', path: '$.outputs[0].size' },
  },
  {
    file: 'provenance.intoto.json',
    code: 'WORKSPACE_PROVENANCE_INVALID',
    good: provenance,
    write: writeProvenance,
    read: readProvenance,
    parse: parseProvenance,
    bad: { keys: ['subject', 0, 'name'], value: 7, path: '$.subject[0].name' },
  },
  {
    file: 'repro-report.json',
    code: 'WORKSPACE_REPRO_REPORT_INVALID',
    good: reproReport,
    write: writeReproReport,
    read: readReproReport,
    parse: parseReproReport,
    bad: { keys: ['reproducible'], value: 'yes', path: '$.reproducible' },
  },
  {
    file: 'vulns.json',
    code: 'WORKSPACE_VULNS_INVALID',
    good: vulns,
    write: writeVulnsReport,
    read: readVulnsReport,
    parse: parseVulnsReport,
    bad: { keys: ['counts', 'high'], value: '0', path: '$.counts.high' },
  },
  {
    file: 'vulns.intoto.json',
    code: 'WORKSPACE_VULNS_STATEMENT_INVALID',
    good: vulnsStatement,
    write: writeVulnsStatement,
    read: readVulnsStatement,
    parse: parseVulnsStatement,
    bad: { keys: ['predicate'], value: [], path: '$.predicate' },
  },
  {
    file: 'policy.json',
    code: 'WORKSPACE_POLICY_RESULT_INVALID',
    good: policy,
    write: writePolicyResult,
    read: readPolicyResult,
    parse: parsePolicyResult,
    bad: { keys: ['counts', 'fail'], value: null, path: '$.counts.fail' },
  },
  {
    file: 'signatures.json',
    code: 'WORKSPACE_SIGNATURES_INVALID',
    good: signatures,
    write: async (dir, value) =>
      writeFileSync(signaturesFile(dir, value).file, signaturesFile(dir, value).data),
    read: readSignatures,
    parse: parseSignatures,
    bad: { keys: ['bundles', 0, 'tlog'], value: 'no', path: '$.bundles[0].tlog' },
  },
]

for (const c of CASES) {
  test(`${c.file}: the writer writes stable JSON and the reader reads it back typed`, async () => {
    const dir = tempDir()
    await c.write(dir, c.good as never)
    const bytes = readFileSync(path.join(dir, c.file))
    assert.equal(bytes.toString('utf8'), stableJson(c.good), 'the bytes detbuild always wrote')
    assert.deepEqual(await c.read(dir), c.good)
    assert.deepEqual(c.parse(bytes), c.good, 'bytes from elsewhere (an evidence member) read the same')
  })

  test(`${c.file}: the wrong type at ${c.bad.path} is exit 2, one line naming the file and the path`, async () => {
    const dir = tempDir()
    const bad = withAt(c.good, c.bad.keys, c.bad.value)
    writeFileSync(path.join(dir, c.file), stableJson(bad))
    const e = await c.read(dir).then(
      () => assert.fail('a file its schema refuses was read'),
      (err: unknown) => err,
    )
    assert.ok(e instanceof WorkspaceSchemaError && e instanceof InputError, String(e))
    assert.equal(e.code, c.code)
    assert.equal(e.exitCode, 2)
    assert.equal(e.file, c.file)
    assert.equal(e.details?.path, c.bad.path)
    const line = e.toLine()
    assert.ok(line.startsWith(`${c.file}: ${c.bad.path} `), line)
    assert.ok(!line.includes('\n'), 'one line')
    // a caller with its own documented code and a display name keeps them
    await assert.rejects(
      c.read(dir, { code: 'ACTION_BUILD_MANIFEST_INVALID', display: `.detbuild/${c.file}` }),
      {
        code: 'ACTION_BUILD_MANIFEST_INVALID',
        file: `.detbuild/${c.file}`,
      },
    )
    // the member of an archive: the same check
    assert.throws(() => c.parse(Buffer.from(stableJson(bad)), `x/${c.file}`), {
      code: c.code,
      file: `x/${c.file}`,
    })
    // bundle's validation of the files it packs refuses the same file, at the same place
    const { problems } = await validateFiles(new Map([[c.file, Buffer.from(stableJson(bad))]]), {
      sboms: false,
    })
    assert.equal(problems.length, 1)
    assert.match(problems[0]!.message, /^not a valid /)
    assert.ok(problems[0]!.message.includes(`/${c.bad.keys.join('/')} `), problems[0]!.message)
  })
}

test('not JSON, too deep or absent: the file code names the file, exit 2 (not the schema error)', async () => {
  const dir = tempDir()
  writeFileSync(path.join(dir, 'build.json'), '{"schemaVersion": 1,')
  await assert.rejects(readBuildManifest(dir), (e: unknown) => {
    assert.ok(e instanceof InputError && !(e instanceof WorkspaceSchemaError))
    assert.equal(e.code, 'WORKSPACE_BUILD_INVALID')
    assert.equal(e.file, 'build.json')
    assert.match(e.message, /invalid JSON at line 1/)
    return true
  })
  writeFileSync(path.join(dir, 'vulns.json'), `${'['.repeat(600)}${']'.repeat(600)}`)
  await assert.rejects(readVulnsReport(dir), { code: 'INPUT_TOO_DEEP', exitCode: 2 })
  await assert.rejects(readPolicyResult(dir), { code: 'WORKSPACE_POLICY_RESULT_INVALID', exitCode: 2 })
})

test('a hand-edited build.json the schema refuses was silently accepted before; now every reader refuses it', () => {
  // a sourceDateEpoch as a string: the bundle's member times and run's SOURCE_DATE_EPOCH came from it
  const edited = Buffer.from(stableJson({ ...build, sourceDateEpoch: '1700000000' }))
  assert.throws(() => parseBuildManifest(edited), {
    code: 'WORKSPACE_BUILD_INVALID',
    message: /^\$\.sourceDateEpoch must be integer/,
  })
  // a provenance that is an in-toto statement but has no subject: what sign refuses
  const noSubject = Buffer.from(stableJson({ ...provenance, subject: [] }))
  assert.throws(() => parseInTotoStatement(noSubject, 'provenance.intoto.json', 'SIGN_PROVENANCE_INVALID'), {
    code: 'SIGN_PROVENANCE_INVALID',
    message: /^\$\.subject must NOT have fewer than 1 items/,
  })
})

test('JSON Pointers become JSON paths', () => {
  assert.equal(toJsonPath(''), '$')
  assert.equal(toJsonPath('/outputs/0/size'), '$.outputs[0].size')
  assert.equal(toJsonPath('/inputs/a b/x~1y~0'), '$.inputs["a b"]["x/y~"]')
})

test('sign: a hand-edited provenance that is no in-toto statement is refused before anything is signed', async () => {
  const { signWorkspace } = await import('../../src/sign/index.ts')
  const dir = tempDir()
  writeFileSync(
    path.join(dir, 'provenance.intoto.json'),
    stableJson({ ...provenance, subject: [{ name: 'a' }] }),
  )
  // the statement is checked first: a signer is never asked, so none is given
  await assert.rejects(signWorkspace({ out: dir, signing: undefined as never, artifacts: false }), {
    code: 'SIGN_PROVENANCE_INVALID',
    exitCode: 2,
    file: 'provenance.intoto.json',
    message: /^\$\.subject\[0\] must have required property 'digest'/,
  })
})
