import assert from 'node:assert/strict'
import { test } from 'node:test'
import { severityFromScore, toRecordSeverity } from '../../src/scan/severity.ts'
import { loadRecords } from '../helpers/osv-server.ts'
import { recordsDir } from './helpers.ts'

const records = new Map(loadRecords(recordsDir).map((r) => [r.id, r]))
const sev = (id: string) => toRecordSeverity(records.get(id)!)

test('CVSS v3.1 vectors are scored with the calculator', () => {
  assert.deepEqual([sev('GHSA-xvch-5gv4-984h').severity, sev('GHSA-xvch-5gv4-984h').score], ['critical', 9.8])
  assert.deepEqual([sev('GHSA-35jh-r3h4-6jhm').severity, sev('GHSA-35jh-r3h4-6jhm').score], ['high', 7.2])
  assert.deepEqual([sev('GHSA-29mw-wpgm-hmr9').severity, sev('GHSA-29mw-wpgm-hmr9').score], ['medium', 5.3])
})

test('a CVSS v4.0 vector wins over v3.1 in the same record', () => {
  const s = sev('GHSA-qwcr-r2fm-qrc7')
  assert.equal(s.source.startsWith('CVSS:4.0/'), true)
  assert.deepEqual([s.severity, s.score], ['high', 8.7])
  const e = sev('GHSA-qw6h-vgh9-j6wx')
  assert.equal(e.source.startsWith('CVSS:4.0/'), true)
  assert.equal(e.severity, 'low')
  assert.equal(
    e.ratings.some((r) => r.method === 'CVSSv31' && r.score === 5),
    true,
    'v3.1 kept as a rating',
  )
})

test('without a vector, database_specific.severity is used; without both, unknown', () => {
  assert.deepEqual([sev('GHSA-pxg6-pf52-xh8x').severity, sev('GHSA-pxg6-pf52-xh8x').score], ['low', null])
  assert.deepEqual(toRecordSeverity({ id: 'X', modified: 'm' }).severity, 'unknown')
  assert.equal(
    toRecordSeverity({ id: 'X', modified: 'm', severity: [{ type: 'CVSS_V3', score: 'garbage' }] }).severity,
    'unknown',
  )
})

test('CVSS v2 vectors are scored too', () => {
  const s = toRecordSeverity({
    id: 'X',
    modified: 'm',
    severity: [{ type: 'CVSS_V2', score: 'AV:N/AC:L/Au:N/C:P/I:P/A:P' }],
  })
  assert.deepEqual([s.severity, s.score], ['high', 7.5])
})

test('the qualitative scale', () => {
  assert.deepEqual([0, 0.1, 3.9, 4, 6.9, 7, 8.9, 9, 10].map(severityFromScore), [
    'none',
    'low',
    'low',
    'medium',
    'medium',
    'high',
    'high',
    'critical',
    'critical',
  ])
})
