import assert from 'node:assert/strict'
import { createPublicKey } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, it } from 'node:test'
import { evaluatePolicy } from '../../src/policy/evaluate.ts'
import { readPolicy, readPolicyInputs } from '../../src/policy/policy-files.ts'
import { RULE_IDS } from '../../src/policy/rule-ids.ts'
import type { PolicyInputs } from '../../src/policy/types.ts'
import { NTIA_ELEMENTS } from '../../src/policy/types.ts'
import { keyIdOf } from '../../src/util/key-id.ts'
import {
  component,
  evaluate,
  FIXTURES,
  file,
  finding,
  inputs,
  KEYS,
  keyTrust,
  NOW,
  ROOT,
  rule,
  sbom,
  violations,
  vulns,
} from './helpers.ts'

const load = (name: string) => readPolicyInputs({ cwd: ROOT, out: path.join(FIXTURES, name) })

describe('fixture workspaces', () => {
  it('good passes every rule of every shipped policy', async () => {
    const inp = await load('good')
    const trust = await keyTrust()
    for (const name of ['default', 'strict', 'permissive-licenses']) {
      const { policy, source } = await readPolicy(ROOT, name)
      const r = evaluatePolicy(policy, inp, { now: NOW, source, trust })
      assert.deepEqual(
        r.rules.filter((x) => x.status !== 'pass').map((x) => x.id),
        [],
        name,
      )
      assert.equal(r.verdict, 'pass')
    }
  })

  it('bad fails every rule of the strict policy but the NTIA name/version/identifier', async () => {
    const { policy, source } = await readPolicy(ROOT, 'strict')
    const r = evaluatePolicy(policy, await load('bad'), { now: NOW, source })
    assert.deepEqual(
      r.rules.filter((x) => x.status === 'pass').map((x) => x.id),
      ['sbom.ntia.name', 'sbom.ntia.version', 'sbom.ntia.identifier'],
    )
    assert.equal(r.verdict, 'fail')
    assert.equal(r.counts.fail, r.rules.length - 3)
  })
})

describe('vulnerabilities', () => {
  const bom = sbom([component('pkg:npm/a@1.0.0'), component('pkg:npm/b@1.0.0')])
  const withFindings = (findings: Record<string, unknown>[], extra = {}): PolicyInputs =>
    inputs(bom, { vulns: { file: file('vulns.json'), data: vulns(findings, extra) } })

  it('fails above maxSeverity, passes at it', () => {
    const inp = withFindings([finding('GHSA-1', 'pkg:npm/a@1.0.0', { severity: 'medium' })])
    assert.equal(
      rule(evaluate({ vulnerabilities: { maxSeverity: 'medium' } }, inp), 'vulnerabilities.severity').status,
      'pass',
    )
    const r = rule(evaluate({ vulnerabilities: { maxSeverity: 'low' } }, inp), 'vulnerabilities.severity')
    assert.equal(r.status, 'fail')
    assert.equal(violations(r)[0]?.id, 'GHSA-1')
  })

  it('separate limits for direct and transitive', () => {
    const inp = withFindings([
      finding('GHSA-d', 'pkg:npm/a@1.0.0', { severity: 'medium', direct: true }),
      finding('GHSA-t', 'pkg:npm/b@1.0.0', { severity: 'high', direct: false }),
    ])
    const r = evaluate(
      { vulnerabilities: { direct: { maxSeverity: 'low' }, transitive: { maxSeverity: 'high' } } },
      inp,
    )
    assert.deepEqual(
      violations(rule(r, 'vulnerabilities.severity')).map((v) => v.id),
      ['GHSA-d'],
    )
  })

  it('unfixed findings count unless countUnfixed is false; dev findings only with includeDev', () => {
    const inp = withFindings([
      finding('GHSA-u', 'pkg:npm/a@1.0.0', { fixed: null }),
      finding('GHSA-dev', 'pkg:npm/b@1.0.0', { dev: true }),
    ])
    assert.deepEqual(
      violations(rule(evaluate({ vulnerabilities: {} }, inp), 'vulnerabilities.severity')).map((v) => v.id),
      ['GHSA-u'],
    )
    const r = evaluate({ vulnerabilities: { countUnfixed: false, includeDev: true } }, inp)
    assert.deepEqual(
      violations(rule(r, 'vulnerabilities.severity')).map((v) => v.id),
      ['GHSA-dev'],
    )
  })

  it('unknown severity is treated as the configured severity', () => {
    const inp = withFindings([finding('GHSA-x', 'pkg:npm/a@1.0.0', { severity: 'unknown' })])
    assert.equal(
      rule(evaluate({ vulnerabilities: { maxSeverity: 'high' } }, inp), 'vulnerabilities.severity').status,
      'pass',
    )
    const r = evaluate({ vulnerabilities: { maxSeverity: 'high', unknownSeverity: 'critical' } }, inp)
    assert.equal(rule(r, 'vulnerabilities.severity').status, 'fail')
  })

  it('honours scan suppressions until they expire', () => {
    const sup = (until: string) =>
      withFindings([
        finding('GHSA-s', 'pkg:npm/a@1.0.0', { suppressed: { reason: 'r', until, source: 'detbuild' } }),
      ])
    assert.equal(
      rule(evaluate({ vulnerabilities: {} }, sup('2025-12-31')), 'vulnerabilities.severity').status,
      'pass',
    )
    const r = rule(evaluate({ vulnerabilities: {} }, sup('2025-01-01')), 'vulnerabilities.severity')
    assert.equal(r.status, 'fail')
    assert.match(String(violations(r)[0]?.expiredException), /expired/)
    const strict = evaluate({ vulnerabilities: { honorScanSuppressions: false } }, sup('2025-12-31'))
    assert.equal(rule(strict, 'vulnerabilities.severity').status, 'fail')
  })

  it('an incomplete scan or one of another SBOM fails scan-complete; ignore omits it', () => {
    assert.equal(
      rule(evaluate({ vulnerabilities: {} }, withFindings([])), 'vulnerabilities.scan-complete').status,
      'pass',
    )
    const inp = withFindings([], {
      complete: false,
      unchecked: ['pkg:npm/b@1.0.0'],
      sbom: { sha256: 'e'.repeat(64) },
    })
    const r = rule(evaluate({ vulnerabilities: {} }, inp), 'vulnerabilities.scan-complete')
    assert.equal(r.status, 'fail')
    assert.equal(violations(r).length, 3)
    const w = evaluate({ vulnerabilities: { incompleteScan: 'warn' } }, inp)
    assert.equal(rule(w, 'vulnerabilities.scan-complete').status, 'warn')
    const i = evaluate({ vulnerabilities: { incompleteScan: 'ignore' } }, inp)
    assert.equal(
      i.rules.some((x) => x.id === 'vulnerabilities.scan-complete'),
      false,
    )
  })

  it('a missing vulns.json warns, or fails when required', () => {
    const r = evaluate({ vulnerabilities: {} }, inputs(bom))
    assert.equal(rule(r, 'vulnerabilities.severity').status, 'warn')
    assert.match(rule(r, 'vulnerabilities.severity').summary, /not evaluated: no vulns.json/)
    assert.equal(r.verdict, 'warn')
    const req = evaluate({ vulnerabilities: { required: true } }, inputs(bom))
    assert.equal(rule(req, 'vulnerabilities.severity').status, 'fail')
  })

  it('a malformed vulns.json is an input error (exit 2)', () => {
    assert.throws(
      () =>
        evaluate(
          { vulnerabilities: {} },
          inputs(bom, { vulns: { file: file('vulns.json'), data: { schemaVersion: 1 } } }),
        ),
      { code: 'POLICY_INPUT_INVALID', exitCode: 2 },
    )
  })
})

describe('packages', () => {
  const bom = sbom([
    component('pkg:npm/event-stream@3.3.6'),
    component('pkg:npm/event-stream@3.3.5'),
    component('pkg:npm/%40evil/thing@1.0.0'),
    component('pkg:npm/mirror@1.0.0?repository_url=https://npm.example.com/repo'),
    component('pkg:npm/tarball@1.0.0', {
      externalReferences: [{ type: 'distribution', url: 'https://evil.example/tarball-1.0.0.tgz' }],
    }),
  ])

  it('denies by purl pattern and semver range', () => {
    const r = evaluate(
      {
        packages: {
          deny: [
            { purl: 'pkg:npm/event-stream', versions: '3.3.6', reason: 'malicious' },
            { purl: 'pkg:npm/@evil/*' },
          ],
        },
      },
      inputs(bom),
    )
    assert.deepEqual(
      violations(rule(r, 'packages.denied')).map((v) => v.purl),
      ['pkg:npm/event-stream@3.3.6', 'pkg:npm/%40evil/thing@1.0.0'],
    )
  })

  it('passes when nothing is denied', () => {
    const r = evaluate({ packages: { deny: [{ purl: 'pkg:npm/left-pad' }] } }, inputs(bom))
    assert.equal(rule(r, 'packages.denied').status, 'pass')
  })

  it('checks registries from repository_url, distribution URLs and the default registry', () => {
    const r = evaluate(
      {
        packages: { registries: { allow: ['https://registry.npmjs.org', 'https://npm.example.com/repo/'] } },
      },
      inputs(bom),
    )
    assert.deepEqual(
      violations(rule(r, 'packages.registries')).map((v) => v.purl),
      ['pkg:npm/tarball@1.0.0'],
    )
    const d = evaluate({ packages: { registries: { deny: ['https://npm.example.com'] } } }, inputs(bom))
    assert.deepEqual(
      violations(rule(d, 'packages.registries')).map((v) => v.purl),
      ['pkg:npm/mirror@1.0.0?repository_url=https://npm.example.com/repo'],
    )
  })
})

describe('SBOM quality', () => {
  it('every NTIA element passes on a complete SBOM and fails when missing', () => {
    const good = sbom([component('pkg:npm/a@1.0.0')])
    const r = evaluate({ sbom: { ntia: {} } }, inputs(good))
    assert.equal(r.rules.length, 7)
    assert.ok(r.rules.every((x) => x.status === 'pass'))

    const bad = sbom([{ type: 'library', 'bom-ref': 'x', name: 'x' }], {
      metadata: { component: { 'bom-ref': 'root', name: 'root', version: '1' } },
      dependencies: [],
    })
    const f = evaluate({ sbom: { ntia: {} } }, inputs(bad))
    const failed = f.rules.filter((x) => x.status === 'fail').map((x) => x.id)
    assert.deepEqual(failed, [
      'sbom.ntia.supplier',
      'sbom.ntia.version',
      'sbom.ntia.identifier',
      'sbom.ntia.dependencies',
      'sbom.ntia.author',
      'sbom.ntia.timestamp',
    ])
  })

  it('checks only the listed elements, at the given level', () => {
    const bad = sbom([{ type: 'library', 'bom-ref': 'x', name: 'x' }])
    const r = evaluate({ sbom: { ntia: { elements: ['version'], level: 'warn' } } }, inputs(bad))
    assert.deepEqual(
      r.rules.map((x) => [x.id, x.status]),
      [['sbom.ntia.version', 'warn']],
    )
  })

  it('minimum share of components with (strong) hashes', () => {
    const bom = sbom([
      component('pkg:npm/a@1.0.0'),
      component('pkg:npm/b@1.0.0', { hashes: [{ alg: 'SHA-1', content: 'ab' }] }),
      component('pkg:npm/c@1.0.0', { hashes: [] }),
      component('pkg:npm/d@1.0.0'),
    ])
    assert.equal(
      rule(evaluate({ sbom: { hashes: { minShare: 0.75 } } }, inputs(bom)), 'sbom.hashes').status,
      'pass',
    )
    const r = rule(
      evaluate({ sbom: { hashes: { minShare: 0.75, strongOnly: true } } }, inputs(bom)),
      'sbom.hashes',
    )
    assert.equal(r.status, 'fail')
    assert.deepEqual(r.evidence.withoutHash, ['pkg:npm/b@1.0.0', 'pkg:npm/c@1.0.0'])
  })

  it("a Go module's go.sum h1: counts as a strong hash; a malformed one does not", () => {
    const h1 = (value: string) => ({ hashes: [], properties: [{ name: 'detbuild:go:h1', value }] })
    const bom = sbom([
      component('pkg:golang/golang.org/x/net@v0.17.0', h1('h1:Q5QPcMlvfxFTAPV0+07Xz/MpK9NTXu2VDUuy0FeMfaU=')),
      component('pkg:golang/example.com/bad@v1.0.0', h1('h1:not-a-hash')),
      component('pkg:golang/stdlib@1.22.5', { hashes: [] }),
    ])
    const r = rule(
      evaluate({ sbom: { hashes: { minShare: 1, strongOnly: true } } }, inputs(bom)),
      'sbom.hashes',
    )
    assert.equal(r.status, 'fail')
    assert.deepEqual(r.evidence.withoutHash, [
      'pkg:golang/example.com/bad@v1.0.0',
      'pkg:golang/stdlib@1.22.5',
    ])
  })

  it("the shipped default and strict policies allow Go's module proxy beside npm's registry", async () => {
    const { readFile } = await import('node:fs/promises')
    for (const name of ['default', 'strict']) {
      const text = await readFile(new URL(`../../policies/${name}.yaml`, import.meta.url), 'utf8')
      assert.match(
        text,
        /allow:\n\s+- https:\/\/registry\.npmjs\.org\n\s+- https:\/\/proxy\.golang\.org\n/,
        name,
      )
    }
    const r = evaluate(
      { packages: { registries: { allow: ['https://registry.npmjs.org', 'https://proxy.golang.org'] } } },
      inputs(sbom([component('pkg:golang/golang.org/x/net@v0.17.0'), component('pkg:npm/a@1.0.0')])),
    )
    assert.equal(rule(r, 'packages.registries').status, 'pass')
  })

  it('a document that is not CycloneDX is an input error', () => {
    assert.throws(() => evaluate({}, inputs({ spdxVersion: 'SPDX-2.3' })), {
      code: 'POLICY_SBOM_INVALID',
      exitCode: 2,
    })
  })
})

describe('rule ids', () => {
  it('every rule the evaluator reports is in RULE_IDS (exceptions are checked against it)', async () => {
    const inp = await load('bad')
    const { policy } = await readPolicy(ROOT, 'strict')
    const all = {
      ...policy,
      sbom: {
        ntia: { elements: [...NTIA_ELEMENTS] },
        hashes: {},
        profiles: { 'cisa-2026': {}, 'bsi-tr-03183-2': {} },
      },
      exceptions: [{ rule: 'build', justification: 'j', expires: '2025-06-02' }],
    }
    const vex = {
      file: file('v.json'),
      data: { bomFormat: 'CycloneDX', specVersion: '1.6', vulnerabilities: [] },
    }
    const r = evaluatePolicy(all, { ...inp, vex: [vex] }, { now: NOW })
    const ids = r.rules.map((x) => x.id)
    assert.deepEqual([...ids].sort(), [...RULE_IDS].sort())
    for (const id of ids) assert.ok(RULE_IDS.includes(id), id)
  })
})

describe('build and signing', () => {
  it('missing build.json and signatures.json warn, or fail when required', async () => {
    const inp = await load('good')
    const bare: PolicyInputs = { sbom: inp.sbom }
    const policy = { build: { reproducible: true }, signing: { provenance: true, artifacts: true } }
    const r = evaluate(policy, bare)
    assert.deepEqual(
      r.rules.map((x) => [x.id, x.status]),
      [
        ['build.reproducible', 'warn'],
        ['signing.provenance', 'warn'],
        ['signing.artifacts', 'warn'],
      ],
    )
    assert.match(rule(r, 'build.reproducible').summary, /no build.json/)
    const req = evaluate(
      { build: { reproducible: true, required: true }, signing: { provenance: true, required: true } },
      bare,
    )
    assert.ok(req.rules.every((x) => x.status === 'fail'))
  })

  it('best-effort isolation passes best-effort and fails none', async () => {
    const inp = await load('good')
    const data = structuredClone(inp.build!.data) as { isolation: { network: string } }
    data.isolation.network = 'best-effort'
    const changed = { ...inp, build: { file: inp.build!.file, data } }
    assert.equal(
      rule(evaluate({ build: { networkIsolation: 'best-effort' } }, changed), 'build.network-isolation')
        .status,
      'pass',
    )
    assert.equal(
      rule(evaluate({ build: { networkIsolation: 'none' } }, changed), 'build.network-isolation').status,
      'fail',
    )
  })

  it('build.sealed: passes a sealed build; fails an unsealed one, and a build.json that does not say', async () => {
    const good = await load('good')
    const pass = rule(evaluate({ build: { sealed: true } }, good), 'build.sealed')
    assert.equal(pass.status, 'pass')
    assert.equal(pass.summary.includes('sealed via bwrap'), true, pass.summary)
    assert.deepEqual(pass.evidence, {
      sealed: true,
      mechanism: 'bwrap',
      pidNamespace: true,
      network: 'none',
      note: null,
      violations: [],
      excepted: [],
    })
    const bad = await load('bad')
    const unsealed = rule(evaluate({ build: { sealed: true } }, bad), 'build.sealed')
    assert.equal(unsealed.status, 'fail')
    assert.match(
      (unsealed.evidence.violations as Array<{ message: string }>)[0]!.message,
      /^the build ran unsealed \(none\): no sealed room/,
    )
    // a build.json written before the room (method, no sealed field) is not taken as sealed
    const data = structuredClone(good.build!.data) as { isolation: Record<string, unknown> }
    data.isolation = { requested: 'deny', network: 'none', method: 'unshare -rn', note: null }
    const old = { ...good, build: { file: good.build!.file, data } }
    const r = rule(evaluate({ build: { sealed: true } }, old), 'build.sealed')
    assert.equal(r.status, 'fail')
    assert.equal(
      (r.evidence.violations as Array<{ message: string }>)[0]!.message,
      'build.json does not record a sealed build',
    )
    // the older record still answers the network rule
    const net = rule(evaluate({ build: { networkIsolation: 'none' } }, old), 'build.network-isolation')
    assert.equal(net.status, 'pass')
    assert.equal(net.evidence.mechanism, 'unshare -rn')
    // level warn: an unsealed build warns instead of failing
    assert.equal(
      rule(evaluate({ build: { sealed: true, level: 'warn' } }, bad), 'build.sealed').status,
      'warn',
    )
  })

  it('signers are judged from the verified key, never from signatures.json', async () => {
    const inp = await load('good')
    const trust = await keyTrust()
    const keyId = keyIdOf(createPublicKey(await readFile(path.join(KEYS, 'signing.pub'))))
    const both = { provenance: true, artifacts: true }
    const ok = evaluate({ signing: { ...both, signers: [{ keyId }] } }, inp, NOW, trust)
    assert.equal(ok.verdict, 'pass')
    assert.deepEqual((rule(ok, 'signing.provenance').evidence.bundles as unknown[])[0], {
      file: 'provenance.sigstore.json',
      verified: true,
      signer: { type: 'key', keyId },
    })
    // signatures.json claims keyId release-key: the claim is not evidence
    const claimed = evaluate({ signing: { ...both, signers: [{ keyId: 'release-key' }] } }, inp, NOW, trust)
    assert.deepEqual(
      claimed.rules.map((x) => [x.status, violations(x)[0]?.code]),
      [
        ['fail', 'POLICY_SIGNER_NOT_ALLOWED'],
        ['fail', 'POLICY_SIGNER_NOT_ALLOWED'],
      ],
    )
    const keyless = evaluate(
      { signing: { ...both, signers: [{ issuer: '*', identity: '*' }] } },
      inp,
      NOW,
      trust,
    )
    assert.deepEqual(
      keyless.rules.map((x) => x.status),
      ['fail', 'fail'],
    )
  })

  it('without trust material no bundle passes: POLICY_SIGNING_NO_TRUST at the rule level', async () => {
    const inp = await load('good')
    const r = evaluate({ signing: { provenance: true, artifacts: true } }, inp)
    assert.deepEqual(
      r.rules.map((x) => [x.id, x.status, violations(x)[0]?.code]),
      [
        ['signing.provenance', 'fail', 'POLICY_SIGNING_NO_TRUST'],
        ['signing.artifacts', 'fail', 'POLICY_SIGNING_NO_TRUST'],
      ],
    )
    const warn = evaluate({ signing: { level: 'warn', provenance: true } }, inp)
    assert.equal(rule(warn, 'signing.provenance').status, 'warn')
    const required = evaluate({ signing: { level: 'warn', required: true, provenance: true } }, inp)
    assert.equal(rule(required, 'signing.provenance').status, 'fail')
  })

  it('a bundle verified by another key fails with the verifier code', async () => {
    const r = evaluate(
      { signing: { provenance: true, artifacts: true } },
      await load('good'),
      NOW,
      await keyTrust('other.pub'),
    )
    assert.deepEqual(
      r.rules.map((x) => [x.status, violations(x)[0]?.code]),
      [
        ['fail', 'VERIFY_SIGNATURE_INVALID'],
        ['fail', 'VERIFY_SIGNATURE_INVALID'],
      ],
    )
  })

  it('a signed artifact that changed after the build fails', async () => {
    const inp = await load('good')
    const files = { ...inp.workspaceFiles, 'artifacts/demo-app-1.0.0.tgz': 'd'.repeat(64) }
    const r = evaluate(
      { signing: { artifacts: true } },
      { ...inp, workspaceFiles: files },
      NOW,
      await keyTrust(),
    )
    assert.match(String(violations(rule(r, 'signing.artifacts'))[0]?.message), /changed since the build/)
    assert.equal(violations(rule(r, 'signing.artifacts'))[0]?.code, 'POLICY_SIGNED_FILE_CHANGED')
  })
})
