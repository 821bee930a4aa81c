/**
 * The shipped SBOM profiles (cisa-2026, bsi-tr-03183-2): a complete SBOM passes every element; for every
 * element, an SBOM without it fails exactly that rule, the violation naming the component (or the SBOM)
 * and the element; policy.json's `coverage` counts it.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { RULE_IDS } from '../../src/policy/rule-ids.ts'
import { PROFILES, type ProfileName } from '../../src/policy/score.ts'
import { evaluate, inputs, rule, violations } from './helpers.ts'

type Obj = Record<string, unknown>
const PURL = 'pkg:npm/left-pad@1.3.0'
const TARBALL = 'https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz'
const SHA512 = 'a'.repeat(128)

function fullComponent(): Obj {
  return {
    type: 'library',
    'bom-ref': PURL,
    name: 'left-pad',
    version: '1.3.0',
    purl: PURL,
    supplier: { name: 'npm user azer', url: ['https://www.npmjs.com/~azer'] },
    hashes: [{ alg: 'SHA-512', content: SHA512 }],
    licenses: [
      { license: { id: 'WTFPL', acknowledgement: 'declared' } },
      { license: { id: 'WTFPL', acknowledgement: 'concluded' } },
    ],
    externalReferences: [
      { type: 'distribution', url: TARBALL, hashes: [{ alg: 'SHA-512', content: SHA512 }] },
      { type: 'source-distribution', url: TARBALL },
    ],
    properties: [
      { name: 'bsi:component:archive', value: 'archive' },
      { name: 'bsi:component:executable', value: 'non-executable' },
      { name: 'bsi:component:filename', value: 'left-pad-1.3.0.tgz' },
      { name: 'bsi:component:structured', value: 'structured' },
    ],
  }
}

function fullSbom(component: Obj = fullComponent(), extra: Obj = {}): Obj {
  const root = 'pkg:npm/app@1.0.0'
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: 'urn:uuid:00000000-0000-8000-8000-000000000000',
    version: 1,
    signature: { algorithm: 'ES256', value: 'x' },
    metadata: {
      timestamp: '2025-01-01T00:00:00Z',
      lifecycles: [{ phase: 'pre-build' }],
      tools: { components: [{ type: 'application', name: 'detbuild', version: '0.1.0' }] },
      authors: [{ name: 'ACME', email: 'sbom@acme.example' }],
      manufacturer: { name: 'ACME', url: ['https://acme.example'] },
      component: { type: 'application', 'bom-ref': root, name: 'app', version: '1.0.0', purl: root },
    },
    components: [component],
    dependencies: [
      { ref: root, dependsOn: [component['bom-ref']] },
      { ref: component['bom-ref'], dependsOn: [] },
    ],
    compositions: [{ aggregate: 'complete', dependencies: [root, component['bom-ref']] }],
    ...extra,
  }
}

const without = (o: Obj, key: string): Obj => {
  const c = structuredClone(o)
  delete c[key]
  return c
}
const withoutProp = (name: string): Obj => {
  const c = fullComponent()
  c.properties = (c.properties as Obj[]).filter((p) => p.name !== name)
  return c
}
const withMeta = (change: (m: Obj) => void, extra: Obj = {}): Obj => {
  const s = fullSbom(fullComponent(), extra)
  change(s.metadata as Obj)
  return s
}

/** For each element: an SBOM that lacks it. */
const BREAK: Record<ProfileName, Record<string, () => Obj>> = {
  'cisa-2026': {
    'sbom-author': () =>
      withMeta((m) => {
        delete m.authors
        delete m.manufacturer
      }),
    'sbom-author-signature': () => without(fullSbom(), 'signature'),
    timestamp: () => withMeta((m) => (m.timestamp = '01/02/2025')),
    'tool-name': () => withMeta((m) => (m.tools = { components: [{ type: 'application', name: 'x' }] })),
    'generation-context': () => withMeta((m) => delete m.lifecycles),
    'sbom-version': () => without(fullSbom(), 'serialNumber'),
    'software-producer': () => fullSbom(without(fullComponent(), 'supplier')),
    'component-name': () => fullSbom({ ...fullComponent(), name: '' }),
    'component-version': () => fullSbom(without(fullComponent(), 'version')),
    'software-identifiers': () => fullSbom(without(fullComponent(), 'purl')),
    'component-hash': () => {
      const c = without(fullComponent(), 'hashes')
      c.externalReferences = [{ type: 'distribution', url: TARBALL }]
      return fullSbom(c)
    },
    license: () => fullSbom(without(fullComponent(), 'licenses')),
    'dependency-relationship': () => {
      const s = fullSbom()
      s.dependencies = [{ ref: 'pkg:npm/app@1.0.0', dependsOn: [] }]
      return s
    },
    'known-unknowns': () => without(fullSbom(), 'compositions'),
  },
  'bsi-tr-03183-2': {
    format: () => ({ ...fullSbom(), specVersion: '1.5' }),
    creator: () =>
      withMeta((m) => {
        m.manufacturer = { name: 'ACME' }
        m.authors = [{ name: 'ACME' }]
      }),
    timestamp: () => withMeta((m) => delete m.timestamp),
    'sbom-uri': () => without(fullSbom(), 'serialNumber'),
    'component-creator': () => fullSbom({ ...fullComponent(), supplier: { name: 'npm user azer' } }),
    'component-name': () => fullSbom(without(fullComponent(), 'name')),
    'component-version': () => fullSbom({ ...fullComponent(), version: '' }),
    filename: () => fullSbom(withoutProp('bsi:component:filename')),
    dependencies: () => without(fullSbom(), 'compositions'),
    'distribution-licences': () =>
      fullSbom({ ...fullComponent(), licenses: [{ license: { id: 'WTFPL', acknowledgement: 'declared' } }] }),
    'original-licences': () =>
      fullSbom({
        ...fullComponent(),
        licenses: [{ license: { id: 'WTFPL', acknowledgement: 'concluded' } }],
      }),
    hash: () =>
      fullSbom({
        ...fullComponent(),
        externalReferences: [
          { type: 'distribution', url: TARBALL, hashes: [{ alg: 'SHA-256', content: 'b'.repeat(64) }] },
          { type: 'source-distribution', url: TARBALL },
        ],
        hashes: [{ alg: 'SHA-256', content: 'b'.repeat(64) }],
      }),
    'deployable-uri': () =>
      fullSbom({ ...fullComponent(), externalReferences: [{ type: 'source-distribution', url: TARBALL }] }),
    'source-code-uri': () =>
      fullSbom({
        ...fullComponent(),
        externalReferences: [
          { type: 'distribution', url: TARBALL, hashes: [{ alg: 'SHA-512', content: SHA512 }] },
        ],
      }),
    identifiers: () => fullSbom(without(fullComponent(), 'purl')),
    executable: () => fullSbom(withoutProp('bsi:component:executable')),
    archive: () => fullSbom(withoutProp('bsi:component:archive')),
    structured: () => fullSbom(withoutProp('bsi:component:structured')),
  },
}

const policyOf = (profile: ProfileName) => ({ sbom: { profiles: { [profile]: { level: 'fail' as const } } } })

for (const profile of Object.keys(PROFILES) as ProfileName[]) {
  describe(`profile ${profile}`, () => {
    test('a complete SBOM passes every element, and policy.json counts it', () => {
      const result = evaluate(policyOf(profile), inputs(fullSbom()))
      const ids = result.rules.map((r) => r.id)
      assert.deepEqual(
        ids,
        PROFILES[profile].map((e) => `sbom.${profile}.${e.id}`),
      )
      for (const r of result.rules) assert.equal(r.status, 'pass', `${r.id}: ${r.summary}`)
      assert.equal(result.verdict, 'pass')
      const cov = result.coverage?.[0] as { profile: string; complete: number; elements: number }
      assert.equal(cov.profile, profile)
      assert.equal(cov.complete, PROFILES[profile].length)
      for (const id of ids) assert.ok(RULE_IDS.includes(id), `${id} is a known rule id`)
    })

    test('every element has a breaking case', () => {
      assert.deepEqual(Object.keys(BREAK[profile]).sort(), PROFILES[profile].map((e) => e.id).sort())
    })

    for (const element of PROFILES[profile]) {
      test(`${element.id}: an SBOM without "${element.name}" fails that rule, naming the element`, () => {
        const result = evaluate(policyOf(profile), inputs(BREAK[profile][element.id]!()))
        const id = `sbom.${profile}.${element.id}`
        const r = rule(result, id)
        assert.equal(r.status, 'fail', r.summary)
        const v = violations(r)
        assert.ok(v.length > 0)
        for (const x of v) {
          assert.equal(x.element, element.name)
          assert.match(
            String(x.message),
            new RegExp(`'${element.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`),
          )
          if (element.scope === 'component')
            assert.match(String(x.message), /^(pkg:npm\/)?left-pad@1\.3\.0: /)
          else assert.match(String(x.message), /^SBOM: /)
        }
        assert.equal(result.verdict, 'fail')
        const cov = result.coverage?.[0] as { coverage: Array<{ element: string; present: number }> }
        assert.equal(cov.coverage.find((c) => c.element === element.id)?.present, 0)
      })
    }
  })
}

test('BSI: the missing SHA-512 is named per component with the section', () => {
  const result = evaluate(policyOf('bsi-tr-03183-2'), inputs(BREAK['bsi-tr-03183-2'].hash!()))
  assert.deepEqual(
    violations(rule(result, 'sbom.bsi-tr-03183-2.hash')).map((v) => v.message),
    [
      "pkg:npm/left-pad@1.3.0: no SHA-512 hash (BSI TR-03183-2 v2.1.0 §5.2.2 'Hash value of the deployable component')",
    ],
  )
})

test('dev-only components are left out unless includeDev, and warn level only warns', () => {
  const dev = { ...without(fullComponent(), 'licenses'), scope: 'excluded' }
  const off = evaluate({ sbom: { profiles: { 'cisa-2026': {} } } }, inputs(fullSbom(dev)))
  assert.equal(rule(off, 'sbom.cisa-2026.license').status, 'pass')
  const on = evaluate(
    { sbom: { profiles: { 'cisa-2026': { includeDev: true, level: 'warn', elements: ['license'] } } } },
    inputs(fullSbom(dev)),
  )
  assert.deepEqual(
    on.rules.map((r) => [r.id, r.status]),
    [['sbom.cisa-2026.license', 'warn']],
  )
})

test('an exception on a profile rule waives that component only', () => {
  const result = evaluate(
    {
      sbom: { profiles: { 'cisa-2026': { elements: ['license'] } } },
      exceptions: [{ rule: 'sbom.cisa-2026.license', purl: PURL, justification: 'reviewed' }],
    },
    inputs(fullSbom(without(fullComponent(), 'licenses'))),
  )
  assert.equal(rule(result, 'sbom.cisa-2026.license').status, 'pass')
})

test('a policy without profiles has no coverage in its result (policy.json unchanged)', () => {
  const result = evaluate({ sbom: { ntia: {} } }, inputs(fullSbom()))
  assert.equal(result.coverage, undefined)
})

test('BSI hash: a SHA-512 on the component itself (npm: the tarball integrity) counts, a SHA-256 does not', () => {
  const own = { ...fullComponent(), externalReferences: [{ type: 'source-distribution', url: TARBALL }] }
  const only = evaluate(
    { sbom: { profiles: { 'bsi-tr-03183-2': { elements: ['hash'] } } } },
    inputs(fullSbom(own)),
  )
  assert.equal(rule(only, 'sbom.bsi-tr-03183-2.hash').status, 'pass')
  const weak = evaluate(
    { sbom: { profiles: { 'bsi-tr-03183-2': { elements: ['hash'] } } } },
    inputs(fullSbom({ ...own, hashes: [{ alg: 'SHA-256', content: 'b'.repeat(64) }] })),
  )
  assert.equal(rule(weak, 'sbom.bsi-tr-03183-2.hash').status, 'fail')
})

test('a hostile SBOM: profile rules read wrong shapes as missing, never throw', () => {
  const hostile = fullSbom({
    ...fullComponent(),
    properties: 'x',
    licenses: [null, 1, { license: 'MIT' }],
    externalReferences: { type: 'distribution' },
    hashes: [{ alg: 5 }],
    supplier: ['x'],
  })
  ;(hostile.metadata as Obj).lifecycles = 'build'
  ;(hostile.metadata as Obj).tools = 'detbuild'
  hostile.compositions = [{ aggregate: 'complete', dependencies: 'all' }]
  const result = evaluate({ sbom: { profiles: { 'cisa-2026': {}, 'bsi-tr-03183-2': {} } } }, inputs(hostile))
  const failed = result.rules.filter((r) => r.status === 'fail').map((r) => r.id)
  for (const id of [
    'sbom.cisa-2026.tool-name',
    'sbom.cisa-2026.generation-context',
    'sbom.cisa-2026.component-hash',
    'sbom.cisa-2026.license',
    'sbom.cisa-2026.known-unknowns',
    'sbom.bsi-tr-03183-2.filename',
  ])
    assert.ok(failed.includes(id), `${id} fails on a hostile shape (${failed.join(', ')})`)
})

test("CISA component hash: a Go module's go.sum h1 counts (named algorithm and value); BSI's SHA-512 does not", () => {
  const go = {
    ...without(fullComponent(), 'hashes'),
    externalReferences: [],
    properties: [{ name: 'detbuild:go:h1', value: `h1:${'A'.repeat(43)}=` }],
  }
  const result = evaluate(
    {
      sbom: {
        profiles: { 'cisa-2026': { elements: ['component-hash'] }, 'bsi-tr-03183-2': { elements: ['hash'] } },
      },
    },
    inputs(fullSbom(go)),
  )
  assert.equal(rule(result, 'sbom.cisa-2026.component-hash').status, 'pass')
  assert.equal(rule(result, 'sbom.bsi-tr-03183-2.hash').status, 'fail')
  const bad = evaluate(
    { sbom: { profiles: { 'cisa-2026': { elements: ['component-hash'] } } } },
    inputs(fullSbom({ ...go, properties: [{ name: 'detbuild:go:h1', value: 'h1:short=' }] })),
  )
  assert.equal(rule(bad, 'sbom.cisa-2026.component-hash').status, 'fail')
})
