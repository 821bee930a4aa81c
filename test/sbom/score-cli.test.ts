/**
 * `detbuild sbom --score` and `--author` through the CLI, on fixture projects: the coverage printed and
 * written to sbom-score.json agrees with an independent count over the written SBOM, is byte-reproducible,
 * and `detbuild policy --policy cisa-2026|bsi-tr-03183-2|ntia-2021` resolves the shipped profiles by name
 * and names what each component misses.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, test } from 'node:test'
import { cli } from '../helpers/cli.ts'
import { fixture, tempDir } from '../helpers/paths.ts'

type Obj = Record<string, any>
const AUTHOR = 'ACME SBOM team <sbom@acme.example>'

async function scored(name: string, ...args: string[]) {
  const out = tempDir()
  const r = await cli(['sbom', '-C', fixture(name), '--out', out, '--score', ...args])
  assert.equal(r.code, 0, r.stderr)
  const sbom = JSON.parse(readFileSync(path.join(out, 'sbom.cdx.json'), 'utf8')) as Obj
  const bytes = readFileSync(path.join(out, 'sbom-score.json'), 'utf8')
  return { out, r, sbom, bytes, score: JSON.parse(bytes) as Obj }
}

const element = (score: Obj, profile: string, id: string) =>
  (score.profiles as Obj[]).find((p) => p.profile === profile)!.coverage.find((e: Obj) => e.element === id)

describe('sbom --score', () => {
  test('large-app: the figures are an independent count over the written SBOM, twice the same bytes', async () => {
    const a = await scored('large-app', '--author', AUTHOR)
    const b = await scored('large-app', '--author', AUTHOR)
    // the same bytes but for the SBOM's path (each run writes into its own temporary folder)
    const unpathed = (x: string) => x.replace(/"file": "[^"]*"/, '"file": ""')
    assert.equal(unpathed(a.bytes), unpathed(b.bytes))
    assert.equal(a.score.sbom.sha256, b.score.sbom.sha256)
    const shipped = (a.sbom.components as Obj[]).filter((c) => c.scope !== 'excluded')
    assert.ok(shipped.length > 100, `${shipped.length} shipped components`)
    const count = (f: (c: Obj) => boolean) => shipped.filter(f).length
    const hasProp = (c: Obj, n: string) => (c.properties ?? []).some((p: Obj) => p.name === n)
    const expect: Array<[string, string, number]> = [
      ['cisa-2026', 'component-hash', count((c) => (c.hashes ?? []).length > 0)],
      ['cisa-2026', 'license', count((c) => (c.licenses ?? []).length > 0)],
      ['cisa-2026', 'software-producer', count((c) => c.supplier !== undefined || c.author !== undefined)],
      ['bsi-tr-03183-2', 'filename', count((c) => hasProp(c, 'bsi:component:filename'))],
      ['bsi-tr-03183-2', 'hash', count((c) => (c.hashes ?? []).some((h: Obj) => h.alg === 'SHA-512'))],
    ]
    for (const [profile, id, present] of expect) {
      const e = element(a.score, profile, id)
      assert.equal(e.present, present, `${profile} ${id}`)
      assert.equal(e.checked, shipped.length, `${profile} ${id}`)
      assert.match(
        a.r.stdout,
        new RegExp(
          `${id} +${present.toLocaleString('en-US')}/${shipped.length.toLocaleString('en-US')} components`,
        ),
      )
    }
    // what detbuild writes from a v3 lockfile: the document elements hold with --author
    for (const id of ['sbom-author', 'timestamp', 'tool-name', 'generation-context', 'sbom-version'])
      assert.equal(element(a.score, 'cisa-2026', id).present, 1, id)
    for (const id of ['format', 'creator', 'timestamp', 'sbom-uri'])
      assert.equal(element(a.score, 'bsi-tr-03183-2', id).present, 1, id)
    assert.deepEqual(a.sbom.metadata.authors, [{ name: 'ACME SBOM team', email: 'sbom@acme.example' }])
    assert.deepEqual(a.sbom.metadata.lifecycles, [{ phase: 'pre-build' }])
    assert.equal(a.score.sbom.file.endsWith('sbom.cdx.json'), true)
    // every component's dependency list carries a completeness statement
    const stated = new Set((a.sbom.compositions as Obj[]).flatMap((c) => c.dependencies))
    for (const c of a.sbom.components as Obj[]) assert.ok(stated.has(c['bom-ref']), c['bom-ref'])
    // without --author, the author is missing and the score says so
    const c = await scored('small-app')
    assert.equal(element(c.score, 'cisa-2026', 'sbom-author').present, 0)
    assert.deepEqual(c.score.profiles[0].missing['sbom-author'], [
      'SBOM: metadata names no author (metadata.authors or metadata.manufacturer)',
    ])
  })

  test('--omit dev: the lists that lost an edge are stated incomplete, not complete', async () => {
    const { sbom } = await scored('dep-kinds', '--omit', 'dev')
    const incomplete = (sbom.compositions as Obj[]).find((c) => c.aggregate === 'incomplete')
    assert.ok(incomplete, JSON.stringify(sbom.compositions))
    assert.ok(
      incomplete.dependencies.includes(sbom.metadata.component['bom-ref']),
      'the root lost its dev edges',
    )
  })

  test('--installed is build, --spec 1.4 has no lifecycles and fails generation-context by name', async () => {
    const { score, sbom } = await scored('small-app', '--spec', '1.4')
    assert.equal(sbom.metadata.lifecycles, undefined)
    assert.equal(element(score, 'cisa-2026', 'generation-context').present, 0)
    assert.match(score.profiles[0].missing['generation-context'][0], /CycloneDX < 1\.5 cannot express it/)
    assert.equal(element(score, 'bsi-tr-03183-2', 'format').present, 0)
  })

  test('usage errors: --score with XML only, a malformed --author (exit 2, one line)', async () => {
    for (const args of [
      ['--score', '--format', 'xml'],
      ['--author', 'Bad <not-an-email>'],
      ['--author', ''],
      ['--author', 'a\u0007b'],
    ]) {
      const r = await cli(['sbom', '-C', fixture('small-app'), '--out', tempDir(), ...args])
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, /SBOM_USAGE/)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    }
  })
})

describe('policy --policy <profile> on a fixture SBOM', () => {
  test('the shipped profiles resolve by name; failures name the component and the element', async () => {
    const { out } = await scored('small-app', '--author', AUTHOR)
    const cwd = fixture('small-app')
    const bsi = await cli(['policy', '-C', cwd, '--out', out, '--policy', 'bsi-tr-03183-2'])
    assert.equal(bsi.code, 1, bsi.stderr)
    const result = JSON.parse(readFileSync(path.join(out, 'policy.json'), 'utf8')) as Obj
    assert.equal(result.policy.source, 'builtin:bsi-tr-03183-2')
    const dist = (result.rules as Obj[]).find((r) => r.id === 'sbom.bsi-tr-03183-2.distribution-licences')!
    assert.equal(dist.status, 'fail')
    assert.match(
      dist.evidence.violations[0].message,
      /^pkg:npm\/[^:]+: no distribution licence .*\(BSI TR-03183-2 v2\.1\.0 §5\.2\.2 'Distribution licences'\)$/,
    )
    assert.equal((result.rules as Obj[]).find((r) => r.id === 'sbom.bsi-tr-03183-2.hash')!.status, 'pass')
    assert.equal(result.coverage[0].profile, 'bsi-tr-03183-2')
    const md = readFileSync(path.join(out, 'policy.md'), 'utf8')
    assert.match(md, /### SBOM profile `bsi-tr-03183-2`: coverage/)
    assert.match(md, /\| Distribution licences \| BSI TR-03183-2 v2\.1\.0 §5\.2\.2 \| 0\/\d+ components \|/)
    const cisa = await cli(['policy', '-C', cwd, '--out', out, '--policy', 'cisa-2026'])
    assert.equal(cisa.code, 1)
    assert.match(cisa.stdout, /sbom\.cisa-2026\.sbom-author-signature/)
    assert.match(cisa.stdout, /coverage cisa-2026:/)
    const ntia = await cli(['policy', '-C', cwd, '--out', out, '--policy', 'ntia-2021'])
    assert.match(ntia.stdout, /sbom\.ntia\.author +ACME SBOM team \(metadata\.authors\)/)
  })
})

test('personContact keeps only plain e-mails and http(s) URLs (both writers emit them unchanged)', async () => {
  const { personContact } = await import('../../src/sbom/supplier.ts')
  assert.deepEqual(personContact('Jane <jane@example.org> (https://jane.example/x)'), {
    email: 'jane@example.org',
    url: 'https://jane.example/x',
  })
  assert.deepEqual(personContact({ name: 'J', email: 'j@example.org' }), {
    email: 'j@example.org',
    url: undefined,
  })
  for (const hostile of [
    { email: 'a b@example.org' },
    { email: 'x@y' },
    { url: 'javascript:alert(1)' },
    { url: 'https://x.example/a b' },
    { url: 'https://x.example/"q"' },
    { email: ['a@example.org'] },
    'Name <not an email> (ftp://x)',
    null,
    42,
  ])
    assert.equal(personContact(hostile), undefined, JSON.stringify(hostile))
})
