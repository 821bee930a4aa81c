/**
 * checkLinks, pure: a consistent set of evidence files has no problem; each way a file can be made from
 * other inputs than the ones present is found, with its kind and the file that makes the claim.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkLinks, type LinkArtifact } from '../../src/evidence/links.ts'
import { stableJson } from '../../src/util/canonical-json.ts'
import { digestBytes, sha256Hex } from '../../src/util/digest.ts'

const ARTIFACT = Buffer.from('tarball bytes\n')
const A = digestBytes(ARTIFACT)
const ARTIFACTS: LinkArtifact[] = [{ path: 'artifacts/app-1.0.0.tgz', ...A }]
const json = (v: unknown) => Buffer.from(stableJson(v))

/** A consistent set; each workspace file is one its schema accepts (checkLinks reads them typed). */
function consistent(): Map<string, Buffer> {
  const files = new Map<string, Buffer>()
  const sbom = json({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [] })
  files.set('sbom.cdx.json', sbom)
  files.set(
    'build.json',
    json({
      schemaVersion: 1,
      sourceDateEpoch: 1700000000,
      reproducibility: { checked: true, reproducible: true, report: 'repro-report.json' },
      outputs: [{ path: 'artifacts/app-1.0.0.tgz', ...A }],
    }),
  )
  const provenance = json({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'app-1.0.0.tgz', digest: { sha256: A.sha256, sha512: A.sha512 } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: { buildType: 'https://detbuild.dev/build-types/npm/v1', externalParameters: {} },
      runDetails: { builder: { id: 'https://detbuild.dev/builders/local/v1' } },
    },
  })
  files.set('provenance.intoto.json', provenance)
  files.set(
    'repro-report.json',
    json({
      schemaVersion: 1,
      reproducible: true,
      variations: [],
      outputs: [
        { name: 'app-1.0.0.tgz', status: 'identical', sha256: { first: A.sha256, second: A.sha256 } },
      ],
    }),
  )
  files.set('repro-report.md', Buffer.from('# report\n'))
  const vulns = json({
    schemaVersion: 1,
    sbom: { file: 'sbom.cdx.json', sha256: sha256Hex(sbom) },
    source: { kind: 'api' },
    complete: true,
    unchecked: [],
    findings: [],
    counts: { critical: 0, high: 0, medium: 0, low: 0, none: 0, unknown: 0 },
  })
  files.set('vulns.json', vulns)
  files.set(
    'vulns.intoto.json',
    json({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'sbom.cdx.json', digest: { sha256: sha256Hex(sbom) } }],
      predicateType: 'https://in-toto.io/attestation/vulns/v0.1',
      predicate: { detbuild: { vulns: { file: 'vulns.json', digest: { sha256: sha256Hex(vulns) } } } },
    }),
  )
  files.set(
    'sbom.vulns.cdx.json',
    json({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [], vulnerabilities: [] }),
  )
  const applied = Buffer.from('version: 1\n')
  files.set('applied-policy/default.yaml', applied)
  const input = (file: string) => ({ file: `.detbuild/${file}`, sha256: sha256Hex(files.get(file)!) })
  files.set(
    'policy.json',
    json({
      schemaVersion: 1,
      policy: { name: 'default', source: 'builtin:default', sha256: sha256Hex(applied) },
      evaluatedAt: '2023-11-14T22:13:20.000Z',
      verdict: 'pass',
      counts: { pass: 0, warn: 0, fail: 0 },
      rules: [],
      exceptions: [],
      inputs: {
        sbom: input('sbom.cdx.json'),
        vulns: input('vulns.json'),
        build: input('build.json'),
        signatures: null,
        vex: [],
      },
    }),
  )
  files.set(
    'provenance.sigstore.json',
    json({
      dsseEnvelope: { payload: provenance.toString('base64'), payloadType: 'application/vnd.in-toto+json' },
    }),
  )
  files.set(
    'artifacts/app-1.0.0.tgz.sigstore.json',
    json({
      messageSignature: {
        messageDigest: { algorithm: 'SHA2_256', digest: Buffer.from(A.sha256, 'hex').toString('base64') },
      },
    }),
  )
  files.set(
    'signatures.json',
    json({
      schemaVersion: 1,
      bundles: [
        {
          file: 'artifacts/app-1.0.0.tgz.sigstore.json',
          kind: 'message',
          subject: 'artifacts/app-1.0.0.tgz',
          sha256: A.sha256,
          signer: { type: 'key', keyId: 'k' },
          tlog: false,
        },
        {
          file: 'provenance.sigstore.json',
          kind: 'dsse',
          subject: 'provenance.intoto.json',
          sha256: sha256Hex(provenance),
          signer: { type: 'key', keyId: 'k' },
          tlog: false,
        },
      ],
    }),
  )
  return files
}

const edit = (files: Map<string, Buffer>, name: string, change: (v: Record<string, unknown>) => void) => {
  const v = JSON.parse(files.get(name)!.toString('utf8'))
  change(v)
  return new Map(files).set(name, json(v))
}
const found = (files: Map<string, Buffer>, artifacts = ARTIFACTS) =>
  checkLinks(files, artifacts)
    .map((p) => `${p.kind} ${p.file}`)
    .sort()

test('a consistent set has no problem', () => {
  assert.deepEqual(checkLinks(consistent(), ARTIFACTS), [])
})

test('artifacts, provenance subjects and build outputs are one set', () => {
  const other: LinkArtifact[] = [{ path: 'artifacts/app-1.0.1.tgz', ...digestBytes(Buffer.from('other')) }]
  const p = found(consistent(), other)
  assert.ok(p.includes('subjects build.json'), p.join('; '))
  assert.ok(p.includes('subjects provenance.intoto.json'), p.join('; '))
  const sha512 = edit(consistent(), 'provenance.intoto.json', (v) => {
    ;(v.subject as Array<{ digest: { sha512: string } }>)[0]!.digest.sha512 = 'f'.repeat(128)
  })
  assert.ok(found(sha512).includes('subjects provenance.intoto.json'))
  const size = edit(consistent(), 'build.json', (v) => {
    ;(v.outputs as Array<{ size: number }>)[0]!.size = 1
  })
  assert.deepEqual(found(size), ['stale policy.json', 'subjects build.json'])
})

test('repro-report.json of an earlier, unchecked build, or of other artifacts', () => {
  const unchecked = edit(consistent(), 'build.json', (v) => {
    v.reproducibility = { checked: false, reproducible: null, report: null }
  })
  assert.ok(found(unchecked).includes('stale repro-report.json'))
  const other = edit(consistent(), 'repro-report.json', (v) => {
    ;(v.outputs as Array<{ sha256: { first: string } }>)[0]!.sha256.first = 'a'.repeat(64)
  })
  assert.deepEqual(found(other), ['stale repro-report.json'])
  const gone = new Map(consistent())
  gone.delete('repro-report.json')
  assert.deepEqual(found(gone), ['missing build.json', 'stale repro-report.md'])
})

test('the scan and its derived files belong to the SBOM present', () => {
  const sbom = new Map(consistent()).set(
    'sbom.cdx.json',
    json({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [1] }),
  )
  const p = found(sbom)
  for (const f of [
    'stale policy.json',
    'stale sbom.vulns.cdx.json',
    'stale vulns.intoto.json',
    'stale vulns.json',
  ])
    assert.ok(p.includes(f), `${f}: ${p.join('; ')}`)
  const noVulns = new Map(consistent())
  noVulns.delete('vulns.json')
  assert.ok(found(noVulns).includes('missing vulns.intoto.json'))
})

test('policy.json: its inputs, a scan it did not judge, the applied policy file', () => {
  const notJudged = edit(consistent(), 'policy.json', (v) => {
    ;(v.inputs as Record<string, unknown>).vulns = null
  })
  assert.deepEqual(found(notJudged), ['stale policy.json'])
  const applied = new Map(consistent()).set(
    'applied-policy/default.yaml',
    Buffer.from('version: 1\n# edited\n'),
  )
  assert.deepEqual(found(applied), ['stale applied-policy/default.yaml'])
})

test('signatures: what each bundle signs, and bundles signatures.json does not list', () => {
  const prov = new Map(consistent()).set('provenance.intoto.json', json({ other: true }))
  const p = found(prov)
  assert.ok(p.includes('stale provenance.sigstore.json'), p.join('; '))
  assert.ok(p.includes('stale signatures.json'), p.join('; '))
  const unlisted = new Map(consistent()).set(
    'artifacts/old-0.9.0.tgz.sigstore.json',
    json({ messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: 'AAAA' } } }),
  )
  assert.deepEqual(found(unlisted), [
    'missing artifacts/old-0.9.0.tgz.sigstore.json',
    'stale artifacts/old-0.9.0.tgz.sigstore.json',
  ])
  const message = edit(consistent(), 'artifacts/app-1.0.0.tgz.sigstore.json', (v) => {
    ;(v.messageSignature as { messageDigest: { digest: string } }).messageDigest.digest =
      Buffer.alloc(32).toString('base64')
  })
  assert.deepEqual(found(message), ['stale artifacts/app-1.0.0.tgz.sigstore.json'])
  const dropped = new Map(consistent())
  dropped.delete('provenance.sigstore.json')
  assert.deepEqual(found(dropped), ['missing signatures.json'])
})

test("the scan's attestation bundle belongs to the vulns.intoto.json present", () => {
  const files = consistent()
  const statement = files.get('vulns.intoto.json')!
  const withVulns = new Map(files).set(
    'vulns.sigstore.json',
    json({
      dsseEnvelope: { payload: statement.toString('base64'), payloadType: 'application/vnd.in-toto+json' },
    }),
  )
  const listed = edit(withVulns, 'signatures.json', (v) => {
    ;(v.bundles as unknown[]).push({
      file: 'vulns.sigstore.json',
      kind: 'dsse',
      subject: 'vulns.intoto.json',
      sha256: sha256Hex(statement),
      signer: { type: 'key', keyId: 'k' },
      tlog: false,
    })
  })
  assert.deepEqual(found(listed), [])
  // signed before the scan ran again: the bundle signs another statement than the one present
  const rescanned = edit(listed, 'vulns.intoto.json', (v) => {
    v.predicate = { detbuild: { vulns: { file: 'vulns.json', digest: { sha256: '0'.repeat(64) } } } }
  })
  const p = found(rescanned)
  assert.ok(p.includes('stale vulns.sigstore.json'), p.join('; '))
  // a vulns bundle signatures.json does not list is from an earlier signing
  assert.ok(found(withVulns).includes('stale vulns.sigstore.json'), found(withVulns).join('; '))
})

test('a file its schema refuses is not read for links: the validator names it, so nothing is signed', async () => {
  const { validateFiles } = await import('../../src/evidence/validate-files.ts')
  const files = edit(consistent(), 'build.json', (v) => {
    ;(v.outputs as Array<{ size: unknown }>)[0]!.size = 'big'
  })
  assert.ok(!found(files).includes('subjects build.json'), 'no link is read from an invalid build.json')
  // (the sigstore bundles of this set are stand-ins: only build.json matters here)
  const { problems } = await validateFiles(files, { sboms: false })
  const build = problems.find((p) => p.file === 'build.json')
  assert.match(build?.message ?? '', /\/outputs\/0\/size must be integer/)
})
