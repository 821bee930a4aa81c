import assert from 'node:assert/strict'
import { test } from 'node:test'
import { goSemver, goVersionOrder } from '../../../src/ecosystems/go/version-order.ts'

test('Go module versions and Go releases map to semver the way the Go vulnerability database does', () => {
  assert.equal(goSemver('v1.2.3'), '1.2.3')
  assert.equal(goSemver('1.2.3'), '1.2.3')
  assert.equal(goSemver('v2.0.0+incompatible'), '2.0.0+incompatible')
  assert.equal(goSemver('v0.0.0-20191109021931-daa7c04131f5'), '0.0.0-20191109021931-daa7c04131f5')
  assert.equal(goSemver('go1.21.3'), '1.21.3')
  assert.equal(goSemver('go1.21rc2'), '1.21.0-rc.2')
  assert.equal(goSemver('go1.9beta2'), '1.9.0-beta.2')
  assert.equal(goSemver('go1.20'), '1.20.0')
  for (const bad of ['', 'v', 'latest', 'v1.2', 'go1.21.1rc1', 'go1', 'v1.2.3.4', 'master'])
    assert.equal(goSemver(bad), null, bad)
})

test('ordering: pseudo-versions sort before the release they precede, by time; +incompatible does not order', () => {
  const sorted = [
    'v0.0.0-20191109021931-daa7c04131f5',
    'v0.0.0-20200101000000-aaaaaaaaaaaa',
    'v0.1.0',
    'v1.0.0-rc.1',
    'v1.0.0',
    'v1.0.1-0.20210101000000-bbbbbbbbbbbb',
    'v1.0.1',
    'v1.10.0',
  ]
  const shuffled = [...sorted].reverse()
  shuffled.sort(goVersionOrder.compareVersions)
  assert.deepEqual(shuffled, sorted)
  assert.equal(goVersionOrder.compareVersions('v2.0.0+incompatible', 'v2.0.0'), 0)
  assert.equal(goVersionOrder.compareVersions('go1.21rc1', 'go1.21.0'), -1)
  assert.equal(goVersionOrder.compareVersions('go1.20', 'go1.20.1'), -1)
})

test('OSV ranges: events without the v, the 1.21.0-0 floor below every 1.21 pre-release, and fail-closed parsing', () => {
  const range = { type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '0.17.0' }] }
  assert.deepEqual(goVersionOrder.inRange('v0.16.0', range), {
    affected: true,
    fixed: '0.17.0',
    unparsable: false,
  })
  assert.equal(goVersionOrder.inRange('v0.17.0', range).affected, false)
  assert.equal(goVersionOrder.inRange('v0.0.0-20230101000000-abcdefabcdef', range).affected, true)
  const stdlib = {
    type: 'SEMVER',
    events: [{ introduced: '0' }, { fixed: '1.20.12' }, { introduced: '1.21.0-0' }, { fixed: '1.21.5' }],
  }
  assert.equal(goVersionOrder.inRange('go1.20.11', stdlib).affected, true)
  assert.equal(goVersionOrder.inRange('go1.20.12', stdlib).affected, false)
  assert.equal(goVersionOrder.inRange('go1.21rc2', stdlib).affected, true)
  assert.deepEqual(goVersionOrder.inRange('go1.21.4', stdlib), {
    affected: true,
    fixed: '1.21.5',
    unparsable: false,
  })
  assert.equal(goVersionOrder.inRange('go1.21.5', stdlib).affected, false)
  assert.equal(
    goVersionOrder.inRange('v1.0.0', { type: 'SEMVER', events: [{ introduced: 'not-a-version' }] })
      .unparsable,
    true,
  )
  assert.equal(goVersionOrder.isValidVersion('v1.2.3'), true)
  assert.equal(goVersionOrder.isValidVersion('(devel)'), false)
  assert.equal(goVersionOrder.isValidVersion('0'), false)
})
