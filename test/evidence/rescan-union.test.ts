/**
 * `verify --evidence --rescan` has neither the Go executable nor go.mod, so its fresh scan cannot prove a Go
 * finding unreachable: the union keeps the SIGNED finding (with its not_affected analysis) and only notes it
 * was seen again; a finding published since the build is added as the fresh scan left it (affected).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { unionFindings } from '../../src/evidence/rescan.ts'
import type { Finding } from '../../src/scan/index.ts'

const finding = (id: string, analysis: Finding['analysis']): Finding =>
  ({
    id,
    aliases: [],
    records: [id],
    purl: 'pkg:golang/golang.org/x/net@v0.15.0',
    name: 'golang.org/x/net',
    version: 'v0.15.0',
    severity: 'high',
    fixed: 'v0.17.0',
    suppressed: null,
    ...(analysis ? { analysis } : {}),
  }) as unknown as Finding

test('a rescan keeps the signed not_affected of a Go finding; a new one stays affected', () => {
  const signed = finding('GO-2023-2102', {
    state: 'not_affected',
    justification: 'vulnerable_code_not_in_execute_path',
    method: 'binary',
    detail: 'none of the vulnerable symbols is in the executable',
  })
  const unanalysed = {
    state: 'affected',
    method: 'none',
    code: 'GO_REACH_NO_SYMBOLS',
    detail: 'no executable',
  } as const
  const fresh = [finding('GO-2023-2102', unanalysed), finding('GO-2024-2687', unanalysed)]
  const { findings, origins, added } = unionFindings([signed], fresh)
  assert.equal(findings.length, 2)
  const kept = findings.find((f) => f.id === 'GO-2023-2102')
  assert.equal(kept, signed)
  assert.equal(kept?.analysis?.state, 'not_affected')
  assert.deepEqual(origins.get(signed), ['evidence', 'rescan'])
  assert.deepEqual(
    added.map((f) => [f.id, f.analysis?.state]),
    [['GO-2024-2687', 'affected']],
  )
})
