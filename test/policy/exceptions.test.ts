import assert from 'node:assert/strict'
import path from 'node:path'
import { describe, it } from 'node:test'
import { readPolicyInputs } from '../../src/policy/policy-files.ts'
import type { PolicyInputs } from '../../src/policy/types.ts'
import {
  component,
  evaluate,
  FIXTURES,
  file,
  finding,
  inputs,
  ROOT,
  rule,
  sbom,
  violations,
  vulns,
} from './helpers.ts'

const bom = sbom([component('pkg:npm/minimist@1.2.5'), component('pkg:npm/other@1.0.0')])
const inp: PolicyInputs = inputs(bom, {
  vulns: {
    file: file('vulns.json'),
    data: vulns([
      finding('GHSA-xvch-5gv4-984h', 'pkg:npm/minimist@1.2.5', {
        aliases: ['CVE-2021-44906'],
        severity: 'critical',
      }),
    ]),
  },
})
const exception = (extra: Record<string, unknown>) => ({
  vulnerability: 'CVE-2021-44906',
  purl: 'pkg:npm/minimist',
  justification: 'vulnerable_code_not_in_execute_path',
  ...extra,
})

describe('policy exceptions', () => {
  it('an exception by alias applies until the end of its expiry day (UTC)', () => {
    const policy = {
      vulnerabilities: {},
      exceptions: [exception({ expires: '2025-06-30', approvedBy: 'sec' })],
    }
    const r = evaluate(policy, inp, new Date('2025-06-30T23:59:59Z'))
    const sev = rule(r, 'vulnerabilities.severity')
    assert.equal(sev.status, 'pass')
    assert.equal((sev.evidence.excepted as unknown[]).length, 1)
    assert.deepEqual(
      r.exceptions.map((e) => [e.status, e.used]),
      [['active', 1]],
    )
    assert.equal(rule(r, 'exceptions.current').status, 'pass')
  })

  it('an expired exception no longer applies and says so', () => {
    const policy = { vulnerabilities: {}, exceptions: [exception({ expires: '2025-06-30' })] }
    const r = evaluate(policy, inp, new Date('2025-07-01T00:00:00Z'))
    const sev = rule(r, 'vulnerabilities.severity')
    assert.equal(sev.status, 'fail')
    assert.match(
      String(violations(sev)[0]?.expiredException),
      /policy:exceptions\[0\].*expired on 2025-06-30/,
    )
    assert.equal(r.exceptions[0]?.status, 'expired')
    assert.equal(rule(r, 'exceptions.current').status, 'warn')
  })

  it('an exception for another package does not apply', () => {
    const r = evaluate({ vulnerabilities: {}, exceptions: [exception({ purl: 'pkg:npm/other' })] }, inp)
    assert.equal(rule(r, 'vulnerabilities.severity').status, 'fail')
    assert.equal(r.exceptions[0]?.used, 0)
  })

  it('exceptionRules make exceptions without expiry, approver or with a far expiry invalid', () => {
    const rules = { requireExpiry: true, requireApprover: true, maxDays: 30 }
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ approvedBy: 'sec' }, /expiry/],
      [{ expires: '2025-06-10' }, /approver/],
      [{ expires: '2026-01-01', approvedBy: 'sec' }, /30 days/],
    ]
    for (const [extra, note] of cases) {
      const r = evaluate({ vulnerabilities: {}, exceptionRules: rules, exceptions: [exception(extra)] }, inp)
      assert.equal(rule(r, 'vulnerabilities.severity').status, 'fail')
      assert.equal(r.exceptions[0]?.status, 'invalid')
      assert.match(String(r.exceptions[0]?.note), note)
    }
    const ok = evaluate(
      {
        vulnerabilities: {},
        exceptionRules: rules,
        exceptions: [exception({ expires: '2025-06-20', approvedBy: 'sec' })],
      },
      inp,
    )
    assert.equal(rule(ok, 'vulnerabilities.severity').status, 'pass')
  })

  it('a rule exception waives a rule for matching packages', () => {
    const bad = sbom([
      component('pkg:npm/a@1.0.0', { hashes: [] }),
      component('pkg:npm/b@1.0.0', { supplier: undefined }),
    ])
    const r = evaluate(
      {
        sbom: { ntia: { elements: ['supplier'] } },
        exceptions: [
          {
            rule: 'sbom.ntia',
            purl: 'pkg:npm/b',
            justification: 'supplier unknown upstream',
            expires: '2025-12-31',
          },
        ],
      },
      inputs(bad),
    )
    assert.equal(rule(r, 'sbom.ntia.supplier').status, 'pass')
  })
})

describe('VEX documents', () => {
  const bad = () => readPolicyInputs({ cwd: ROOT, out: path.join(FIXTURES, 'bad') })
  const vexFile = async (name: string) => {
    const v = await readPolicyInputs({
      cwd: ROOT,
      out: path.join(FIXTURES, 'bad'),
      vex: [path.join(FIXTURES, 'vex', name)],
    })
    return v.vex!
  }

  it('an OpenVEX not_affected statement suppresses the finding; affected statements do not', async () => {
    const base = await bad()
    const r = evaluate({ vulnerabilities: {} }, { ...base, vex: await vexFile('openvex.json') })
    assert.equal(rule(r, 'vulnerabilities.severity').status, 'pass')
    assert.deepEqual(
      r.exceptions.map((e) => [e.ref, e.origin, e.used]),
      [['fixtures/policy/vex/openvex.json#statements[0]', 'openvex', 1]],
    )
    assert.equal(r.exceptions[0]?.approvedBy, 'Bad App security team')
  })

  it('a CycloneDX VEX not_affected analysis suppresses the finding (BOM-link refs too)', async () => {
    const base = await bad()
    const r = evaluate({ vulnerabilities: {} }, { ...base, vex: await vexFile('cyclonedx-vex.json') })
    assert.equal(rule(r, 'vulnerabilities.severity').status, 'pass')
    assert.equal(r.exceptions.length, 1)
    assert.equal(r.exceptions[0]?.origin, 'cyclonedx-vex')
  })

  it('a VEX statement with a detbuild:expires property expires', async () => {
    const base = await bad()
    const vex = await vexFile('expiring-cyclonedx-vex.json')
    const before = evaluate({ vulnerabilities: {} }, { ...base, vex }, new Date('2025-02-01T00:00:00Z'))
    assert.equal(rule(before, 'vulnerabilities.severity').status, 'pass')
    const after = evaluate({ vulnerabilities: {} }, { ...base, vex }, new Date('2025-03-02T00:00:00Z'))
    assert.equal(rule(after, 'vulnerabilities.severity').status, 'fail')
    assert.equal(after.exceptions[0]?.status, 'expired')
  })

  it('an OpenVEX statement about the product covers its packages', () => {
    const vex = {
      '@context': 'https://openvex.dev/ns/v0.2.0',
      statements: [
        { vulnerability: 'CVE-2021-44906', products: ['pkg:npm/app@1.0.0'], status: 'not_affected' },
      ],
    }
    const r = evaluate({ vulnerabilities: {} }, { ...inp, vex: [{ file: file('v.json'), data: vex }] })
    assert.equal(rule(r, 'vulnerabilities.severity').status, 'pass')
  })

  it('a document that is not VEX is an input error (exit 2)', () => {
    assert.throws(
      () =>
        evaluate({ vulnerabilities: {} }, { ...inp, vex: [{ file: file('v.json'), data: { hello: 1 } }] }),
      {
        code: 'POLICY_VEX_INVALID',
        exitCode: 2,
      },
    )
  })
})
