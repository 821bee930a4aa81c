import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { judgeLicense, parseSpdx } from '../../src/policy/spdx.ts'
import { component, evaluate, inputs, rule, sbom, violations } from './helpers.ts'

function judge(expression: string, allow: string[], deny: string[] = []): boolean {
  const parsed = parseSpdx(expression)
  assert.ok(parsed.ok, expression)
  return judgeLicense(parsed, allow, deny).allowed
}

describe('SPDX expressions', () => {
  it('an OR expression passes when one branch is allowed', () => {
    assert.equal(judge('MIT OR GPL-3.0-only', ['MIT']), true)
    assert.equal(judge('(GPL-3.0-only OR MIT)', ['MIT'], ['GPL-3.0-only']), true)
  })
  it('an AND expression needs every licence', () => {
    assert.equal(judge('MIT AND GPL-3.0-only', ['MIT']), false)
    assert.equal(judge('MIT AND ISC', ['MIT', 'ISC']), true)
    assert.equal(judge('(MIT OR Apache-2.0) AND BSD-3-Clause', ['Apache-2.0', 'BSD-3-Clause']), true)
  })
  it('deny lists win and cover ranges', () => {
    assert.equal(judge('MIT', ['MIT'], ['MIT']), false)
    assert.equal(judge('GPL-3.0-only', [], ['GPL-2.0-or-later']), false)
    assert.equal(judge('GPL-2.0-only', [], ['GPL-3.0-or-later']), true)
    assert.equal(judge('AGPL-3.0-only OR MIT', [], ['AGPL-1.0-or-later']), true)
  })
  it('allow ranges use -or-later and +', () => {
    assert.equal(judge('LGPL-3.0-only', ['LGPL-2.1-or-later']), true)
    assert.equal(judge('LGPL-2.0-only', ['LGPL-2.1-or-later']), false)
  })
  it('a WITH exception is allowed when its licence is', () => {
    assert.equal(judge('Apache-2.0 WITH LLVM-exception', ['Apache-2.0']), true)
  })
  it('rejects text that is not SPDX', () => {
    assert.equal(parseSpdx('Some License').ok, false)
    assert.equal(parseSpdx('NOASSERTION').ok, false)
  })
})

describe('licence rules', () => {
  const bom = sbom([
    component('pkg:npm/dual@1.0.0', { licenses: [{ expression: 'MIT OR GPL-3.0-only' }] }),
    component('pkg:npm/both@1.0.0', { licenses: [{ expression: 'MIT AND GPL-3.0-only' }] }),
    component('pkg:npm/named@1.0.0', { licenses: [{ license: { name: 'ISC' } }] }),
    component('pkg:npm/custom@1.0.0', { licenses: [{ license: { name: 'My Own License' } }] }),
    component('pkg:npm/none@1.0.0', { licenses: [] }),
    component('pkg:npm/noassert@1.0.0', { licenses: [{ expression: 'NOASSERTION' }] }),
    component('pkg:npm/devonly@1.0.0', {
      licenses: [{ license: { id: 'GPL-3.0-only' } }],
      properties: [{ name: 'cdx:npm:package:development', value: 'true' }],
    }),
  ])

  it('evaluates whole expressions, ids, names and expressions', () => {
    const r = evaluate({ licenses: { allow: ['MIT', 'ISC'] } }, inputs(bom))
    const allowed = rule(r, 'licenses.allowed')
    assert.equal(allowed.status, 'fail')
    assert.deepEqual(
      violations(allowed).map((v) => v.purl),
      ['pkg:npm/both@1.0.0'],
    )
    const known = rule(r, 'licenses.known')
    assert.equal(known.status, 'warn')
    assert.deepEqual(
      violations(known).map((v) => v.purl),
      ['pkg:npm/custom@1.0.0', 'pkg:npm/none@1.0.0', 'pkg:npm/noassert@1.0.0'],
    )
  })

  it('unknown: fail fails, allow omits the rule; dev packages count only with includeDev', () => {
    const r = evaluate(
      { licenses: { deny: ['GPL-3.0-only'], unknown: 'fail', includeDev: true } },
      inputs(bom),
    )
    assert.equal(rule(r, 'licenses.known').status, 'fail')
    assert.deepEqual(
      violations(rule(r, 'licenses.allowed')).map((v) => v.purl),
      ['pkg:npm/both@1.0.0', 'pkg:npm/devonly@1.0.0'],
    )
    const r2 = evaluate({ licenses: { allow: ['MIT', 'ISC'], unknown: 'allow' } }, inputs(bom))
    assert.equal(
      r2.rules.some((x) => x.id === 'licenses.known'),
      false,
    )
  })

  it('passes when every licence is allowed', () => {
    const ok = sbom([
      component('pkg:npm/a@1.0.0'),
      component('pkg:npm/b@1.0.0', { licenses: [{ expression: 'ISC OR MIT' }] }),
    ])
    const r = evaluate({ licenses: { allow: ['MIT'], unknown: 'fail' } }, inputs(ok))
    assert.equal(rule(r, 'licenses.allowed').status, 'pass')
    assert.equal(rule(r, 'licenses.known').status, 'pass')
    assert.equal(r.verdict, 'pass')
  })

  it('a licence exception accepts a licence for a package until it expires', () => {
    const policy = {
      licenses: { allow: ['MIT'] },
      exceptions: [
        { license: 'GPL-3.0-only', purl: 'pkg:npm/both', justification: 'reviewed', expires: '2025-06-01' },
      ],
    }
    const one = sbom([
      component('pkg:npm/both@1.0.0', { licenses: [{ expression: 'MIT AND GPL-3.0-only' }] }),
    ])
    const before = evaluate(policy, inputs(one), new Date('2025-06-01T23:59:59Z'))
    assert.equal(rule(before, 'licenses.allowed').status, 'pass')
    assert.equal(before.exceptions[0]?.used, 1)
    const after = evaluate(policy, inputs(one), new Date('2025-06-02T00:00:00Z'))
    const r = rule(after, 'licenses.allowed')
    assert.equal(r.status, 'fail')
    assert.match(String(violations(r)[0]?.expiredException), /expired on 2025-06-01/)
    assert.equal(rule(after, 'exceptions.current').status, 'warn')
  })
})
