import assert from 'node:assert/strict'
import path from 'node:path'
import { describe, it } from 'node:test'
import { isDetbuildError } from '../../src/errors.ts'
import { readPolicyInputs } from '../../src/policy/policy-files.ts'
import type { PolicyInputs, PolicyResult } from '../../src/policy/types.ts'
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

type Obj = Record<string, unknown>

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

  it('an OpenVEX statement about the product (this version) covers its packages', () => {
    const vex = (product: string) => ({
      '@context': 'https://openvex.dev/ns/v0.2.0',
      statements: [
        {
          vulnerability: 'CVE-2021-44906',
          products: [product],
          status: 'not_affected',
          justification: 'vulnerable_code_not_in_execute_path',
        },
      ],
    })
    const r = evaluate(
      { vulnerabilities: {} },
      { ...inp, vex: [{ file: file('v.json'), data: vex('pkg:npm/app@1.0.0') }] },
    )
    assert.equal(rule(r, 'vulnerabilities.severity').status, 'pass')
    assert.equal(rule(r, 'exceptions.vex').status, 'pass')
    // another version of the product is not this product
    const other = evaluate(
      { vulnerabilities: {} },
      { ...inp, vex: [{ file: file('v.json'), data: vex('pkg:npm/app@0.9.0') }] },
    )
    assert.equal(rule(other, 'vulnerabilities.severity').status, 'fail')
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

describe('VEX documents are hostile input', () => {
  const SERIAL = 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79'
  const serialBom = sbom([component('pkg:npm/minimist@1.2.5'), component('pkg:npm/other@1.0.0')], {
    serialNumber: SERIAL,
    version: 1,
  })
  const withVex = (data: unknown, base: Obj = serialBom): PolicyInputs => ({
    ...inputs(base, { vulns: inp.vulns! }),
    vex: [{ file: file('vex.json'), data }],
  })
  const cdx = (statement: Obj) => ({
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    vulnerabilities: [statement],
  })
  const notAffected = (extra: Obj = {}) => ({
    id: 'GHSA-xvch-5gv4-984h',
    analysis: { state: 'not_affected', justification: 'code_not_reachable' },
    affects: [{ ref: 'pkg:npm/minimist@1.2.5' }],
    ...extra,
  })
  const openvex = (statement: Obj, doc: Obj = {}) => ({
    '@context': 'https://openvex.dev/ns/v0.2.0',
    author: 'sec team',
    statements: [
      {
        vulnerability: { name: 'CVE-2021-44906' },
        status: 'not_affected',
        justification: 'vulnerable_code_not_in_execute_path',
        ...statement,
      },
    ],
    ...doc,
  })
  const notes = (r: PolicyResult) =>
    (rule(r, 'exceptions.vex').evidence.notes as Array<{ ref: string; message: string }>).map(
      (n) => n.message,
    )

  it('a CycloneDX statement without affects is ignored with a warning, never a wildcard', () => {
    for (const affects of [undefined, []]) {
      const r = evaluate({ vulnerabilities: {} }, withVex(cdx(notAffected({ affects }))))
      assert.equal(rule(r, 'vulnerabilities.severity').status, 'fail')
      assert.deepEqual(r.exceptions, [])
      assert.equal(rule(r, 'exceptions.vex').status, 'warn')
      assert.match(notes(r)[0]!, /no `affects`/)
      assert.equal(r.verdict, 'fail')
    }
  })

  it('a BOM-link applies only to the SBOM with that serial and version', () => {
    const link = (serial: string, version = 1) => [
      { ref: `urn:cdx:${serial}/${version}#${encodeURIComponent('pkg:npm/minimist@1.2.5')}` },
    ]
    const same = evaluate(
      { vulnerabilities: {} },
      withVex(cdx(notAffected({ affects: link(SERIAL.slice(9)) }))),
    )
    assert.equal(rule(same, 'vulnerabilities.severity').status, 'pass')
    assert.equal(rule(same, 'exceptions.vex').status, 'pass')
    for (const [serial, version] of [
      ['00000000-0000-0000-0000-000000000000', 1],
      [SERIAL.slice(9), 2],
    ] as const) {
      const other = evaluate(
        { vulnerabilities: {} },
        withVex(cdx(notAffected({ affects: link(serial, version) }))),
      )
      assert.equal(rule(other, 'vulnerabilities.severity').status, 'fail', `${serial}/${version}`)
      assert.match(notes(other).join('\n'), /about another SBOM/)
    }
    // an SBOM without a serial cannot be the one a BOM-link names
    const noSerial = evaluate(
      { vulnerabilities: {} },
      withVex(
        cdx(notAffected({ affects: link(SERIAL.slice(9)) })),
        sbom([component('pkg:npm/minimist@1.2.5')]),
      ),
    )
    assert.equal(rule(noSerial, 'vulnerabilities.severity').status, 'fail')
    assert.match(notes(noSerial).join('\n'), /no serialNumber/)
  })

  it('wildcard purls in VEX are ignored with a warning (CycloneDX refs and OpenVEX products)', () => {
    const c = evaluate(
      { vulnerabilities: {} },
      withVex(cdx(notAffected({ affects: [{ ref: 'pkg:npm/*' }] }))),
    )
    assert.equal(rule(c, 'vulnerabilities.severity').status, 'fail')
    assert.match(notes(c).join('\n'), /wildcard/)
    const o = evaluate({ vulnerabilities: {} }, withVex(openvex({ products: [{ '@id': 'pkg:npm/mini*' }] })))
    assert.equal(rule(o, 'vulnerabilities.severity').status, 'fail')
    assert.match(notes(o).join('\n'), /wildcard/)
  })

  it('OpenVEX: no products or no justification is a warning, an unknown status is exit 2', () => {
    for (const [statement, note] of [
      [{ products: undefined }, /no products/],
      [{ products: [] }, /no products/],
      [{ products: ['pkg:npm/minimist@1.2.5'], justification: undefined }, /justification/],
    ] as const) {
      const r = evaluate({ vulnerabilities: {} }, withVex(openvex(statement)))
      assert.equal(rule(r, 'vulnerabilities.severity').status, 'fail')
      assert.match(notes(r).join('\n'), note)
    }
    assert.throws(
      () =>
        evaluate(
          { vulnerabilities: {} },
          withVex(openvex({ status: 'not-affected', products: ['pkg:npm/minimist'] })),
        ),
      (e: unknown) =>
        isDetbuildError(e) &&
        e.code === 'POLICY_VEX_INVALID' &&
        e.exitCode === 2 &&
        e.file === 'vex.json' &&
        /statements\[0\]\.status: unknown status "not-affected"/.test(e.message),
    )
    assert.throws(
      () =>
        evaluate({ vulnerabilities: {} }, withVex(cdx(notAffected({ analysis: { state: 'not-affected' } })))),
      (e: unknown) =>
        isDetbuildError(e) &&
        e.code === 'POLICY_VEX_INVALID' &&
        /vulnerabilities\[0\]\.analysis\.state/.test(e.message),
    )
  })

  it('a statement that matches no finding is a warning', () => {
    const r = evaluate(
      { vulnerabilities: {} },
      withVex(cdx(notAffected({ affects: [{ ref: 'pkg:npm/other@1.0.0' }] }))),
    )
    assert.equal(rule(r, 'vulnerabilities.severity').status, 'fail')
    assert.equal(rule(r, 'exceptions.vex').status, 'warn')
    assert.deepEqual(notes(r), ['matches no finding'])
  })

  it('VEX exceptions obey exceptionRules: expiry, approver, maxDays', () => {
    const expired = evaluate(
      { vulnerabilities: {} },
      withVex(cdx(notAffected({ properties: [{ name: 'detbuild:expires', value: '2025-05-01' }] }))),
    )
    assert.equal(rule(expired, 'vulnerabilities.severity').status, 'fail')
    assert.equal(expired.exceptions[0]?.status, 'expired')

    const rules = { requireExpiry: true, requireApprover: true, maxDays: 30 }
    const cases: Array<[unknown, RegExp]> = [
      // CycloneDX: no approver
      [cdx(notAffected({ properties: [{ name: 'detbuild:expires', value: '2025-06-10' }] })), /approver/],
      // CycloneDX: no expiry
      [cdx(notAffected({ properties: [{ name: 'detbuild:approvedBy', value: 'sec' }] })), /expiry/],
      // OpenVEX: no expiry (the author is the approver)
      [openvex({ products: ['pkg:npm/minimist@1.2.5'] }), /expiry/],
      // OpenVEX: no author, so no approver
      [
        openvex(
          { products: ['pkg:npm/minimist@1.2.5'], 'detbuild:expires': '2025-06-10' },
          { author: undefined },
        ),
        /approver/,
      ],
      // too far ahead
      [openvex({ products: ['pkg:npm/minimist@1.2.5'], 'detbuild:expires': '2026-06-10' }), /30 days/],
    ]
    for (const [doc, note] of cases) {
      const r = evaluate({ vulnerabilities: {}, exceptionRules: rules }, withVex(doc))
      assert.equal(rule(r, 'vulnerabilities.severity').status, 'fail', String(note))
      assert.equal(r.exceptions[0]?.status, 'invalid', String(note))
      assert.match(String(r.exceptions[0]?.note), note)
    }
    const ok = evaluate(
      { vulnerabilities: {}, exceptionRules: rules },
      withVex(openvex({ products: ['pkg:npm/minimist@1.2.5'], 'detbuild:expires': '2025-06-10' })),
    )
    assert.equal(rule(ok, 'vulnerabilities.severity').status, 'pass')
  })
})
