import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { npmEcosystem } from '../../src/ecosystems/index.ts'
import { OsvIndex } from '../../src/scan/osv-index.ts'
import { matchAffected } from '../../src/scan/range-match.ts'
import type { OsvRecord } from '../../src/scan/types.ts'
import { loadRecords } from '../helpers/osv-server.ts'
import { generatedDir, recordsDir } from './helpers.ts'

const index = new OsvIndex()
for (const r of loadRecords(recordsDir)) index.add(r, r.id)
const ids = (name: string, version: string): string[] =>
  index.match('npm', name, version).map((m) => m.record.id)

test('real advisories: minimist 1.2.5 and lodash 4.17.20 match what the advisory data says', () => {
  assert.deepEqual(ids('minimist', '1.2.5'), ['GHSA-xvch-5gv4-984h'])
  assert.deepEqual(ids('lodash', '4.17.20'), ['GHSA-29mw-wpgm-hmr9', 'GHSA-35jh-r3h4-6jhm'])
  assert.deepEqual(index.match('npm', 'minimist', '1.2.5')[0]!.fixed, ['1.2.6'])
  assert.deepEqual(
    index.match('npm', 'lodash', '4.17.20').map((m) => m.fixed),
    [['4.17.21'], ['4.17.21']],
  )
})

test('negative cases: versions outside every range are not affected', () => {
  assert.deepEqual(ids('minimist', '1.2.6'), [])
  assert.deepEqual(ids('minimist', '0.2.4'), [])
  assert.deepEqual(ids('lodash', '4.17.21'), [])
  assert.deepEqual(ids('glob-parent', '2.0.0'), [], 'introduced at 3.0.0')
  assert.deepEqual(ids('glob-parent', '5.1.2'), [])
  assert.deepEqual(ids('semver', '7.5.2'), [])
  assert.deepEqual(ids('semver', '6.3.1'), [])
})

test('several ranges per package: each branch has its own fix', () => {
  assert.deepEqual(
    index.match('npm', 'minimist', '0.0.8').map((m) => [m.record.id, m.fixed]),
    [
      ['GHSA-vh95-rmgr-6w4m', ['0.2.1']],
      ['GHSA-xvch-5gv4-984h', ['0.2.4']],
    ],
  )
  assert.deepEqual(index.match('npm', 'semver', '6.3.0')[0]!.fixed, ['6.3.1'])
  assert.deepEqual(index.match('npm', 'path-to-regexp', '0.1.7')[0]!.fixed, ['0.1.10'])
  assert.deepEqual(ids('path-to-regexp', '6.3.0'), [])
  assert.deepEqual(ids('path-to-regexp', '8.0.0'), [])
})

test('last_affected is inclusive and has no fix', () => {
  assert.deepEqual(ids('request', '2.88.2'), ['GHSA-p8p7-x288-28g6'])
  assert.deepEqual(index.match('npm', 'request', '2.88.2')[0]!.fixed, [])
  assert.deepEqual(ids('@cypress/request', '2.88.11'), ['GHSA-p8p7-x288-28g6'])
  assert.deepEqual(ids('@cypress/request', '2.88.12'), [])
  assert.deepEqual(ids('lodash.trim', '4.5.1'), ['GHSA-29mw-wpgm-hmr9'])
  assert.deepEqual(ids('lodash.trim', '4.5.2'), [])
})

test('prerelease ranges follow semver ordering', () => {
  assert.deepEqual(ids('express', '5.0.0-beta.1'), ['GHSA-qw6h-vgh9-j6wx', 'GHSA-rv95-896h-c2vc'])
  assert.deepEqual(ids('express', '5.0.0-beta.3'), ['GHSA-qw6h-vgh9-j6wx'])
  assert.deepEqual(ids('express', '5.0.0'), [])
  assert.deepEqual(ids('express', '4.19.2'), ['GHSA-qw6h-vgh9-j6wx'])
})

test('npm names match exactly: case, scope and similar names do not match', () => {
  assert.deepEqual(ids('Minimist', '1.2.5'), [])
  assert.deepEqual(ids('@evil/minimist', '1.2.5'), [])
  assert.deepEqual(ids('minimist2', '1.2.5'), [])
  assert.deepEqual(ids('lodash-es', '4.17.20'), ['GHSA-29mw-wpgm-hmr9', 'GHSA-35jh-r3h4-6jhm'])
})

test('withdrawn records are skipped', () => {
  const w = new OsvIndex()
  const file = path.join(generatedDir, 'GHSA-xvch-5gv4-984h.withdrawn-variant.json')
  w.add(JSON.parse(readFileSync(file, 'utf8')), file)
  assert.equal(w.withdrawn, 1)
  assert.deepEqual(w.match('npm', 'minimist', '1.2.5'), [])
})

test('limit events, explicit versions lists and SEMVER ranges', () => {
  const entry = {
    package: { ecosystem: 'npm', name: 'x' },
    ranges: [{ type: 'SEMVER', events: [{ introduced: '1.0.0' }, { limit: '2.0.0' }] }],
    versions: ['3.0.0'],
  }
  assert.equal(matchAffected(entry, '1.5.0', npmEcosystem).affected, true)
  assert.equal(matchAffected(entry, '2.1.0', npmEcosystem).affected, false, 'beyond the limit')
  assert.equal(matchAffected(entry, '3.0.0', npmEcosystem).affected, true, 'listed explicitly')
  assert.equal(matchAffected(entry, '0.9.0', npmEcosystem).affected, false)
  const git = {
    package: { ecosystem: 'npm', name: 'x' },
    ranges: [{ type: 'GIT', repo: 'r', events: [{ introduced: '0' }] }],
  }
  assert.equal(
    matchAffected(git, '1.0.0', npmEcosystem).affected,
    false,
    'GIT ranges do not apply to versions',
  )
  const bad = {
    package: { ecosystem: 'npm', name: 'x' },
    ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: 'not-a-version' }] }],
  }
  assert.deepEqual(
    matchAffected(bad, '1.0.0', npmEcosystem),
    { affected: true, fixed: [], unparsable: true },
    'fail closed',
  )
})

test('a malformed record is bad input with a stable code', () => {
  const i = new OsvIndex()
  assert.throws(() => i.add({ id: 'X' }, 'x.json'), { code: 'SCAN_OSV_RECORD_INVALID', exitCode: 2 })
  assert.throws(() => i.add({ id: 'X', modified: 'm', affected: {} } as unknown as OsvRecord, 'x.json'), {
    code: 'SCAN_OSV_RECORD_INVALID',
  })
})
