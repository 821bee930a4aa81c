/** Pure checks of OSV replies and API URLs (the online scan's first line against a hostile server). */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DefaultMaxResponseBytes, toOsvEndpoint } from '../../src/scan/osv-client.ts'
import { isOsvId, quoteUntrusted, toBatchResults, toCheckedRecord } from '../../src/scan/osv-reply.ts'
import { redactSecrets } from '../../src/util/redact.ts'
import { cli } from '../helpers/cli.ts'
import { loadRecords } from '../helpers/osv-server.ts'
import { recordsDir } from './helpers.ts'

test('redactSecrets drops the userinfo of every URL, up to the last @ of the authority', () => {
  assert.equal(redactSecrets('https://u:tok@host/p?q=1'), 'https://***@host/p?q=1')
  assert.equal(redactSecrets('https://u:p@ss@host/x'), 'https://***@host/x')
  assert.equal(
    redactSecrets('fetch https://a:b@one.example and http://c@two.example/ failed'),
    'fetch https://***@one.example and http://***@two.example/ failed',
  )
  assert.equal(redactSecrets('mail me@example.com'), 'mail me@example.com')
  assert.equal(redactSecrets('https://host/a@b'), 'https://host/a@b')
})

test('toOsvEndpoint: credentials become Basic auth, never part of the URL shown', () => {
  const e = toOsvEndpoint('https://bot:s%40cret@osv.example/api/')
  assert.ok(!('invalid' in e))
  assert.equal(e.base, 'https://osv.example/api')
  assert.equal(e.display, 'https://osv.example/api')
  assert.equal(e.authorization, `Basic ${Buffer.from('bot:s@cret').toString('base64')}`)
  assert.deepEqual(toOsvEndpoint('https://api.osv.dev'), {
    base: 'https://api.osv.dev',
    display: 'https://api.osv.dev',
    authorization: null,
  })
  for (const bad of ['osv.example', 'file:///etc/passwd', 'https://h/?k=1', 'https://h/#x', 'http://a%zz@h'])
    assert.ok('invalid' in toOsvEndpoint(bad), bad)
})

test('toBatchResults: positional results, one verdict per query; anything else is refused', () => {
  const ok = toBatchResults(
    { results: [{}, { vulns: [{ id: 'GHSA-1', modified: '2024-01-01T00:00:00Z' }], next_page_token: 't' }] },
    2,
  )
  assert.deepEqual(ok, {
    results: [
      { ok: true, vulns: [], next: null },
      { ok: true, vulns: [{ id: 'GHSA-1', modified: '2024-01-01T00:00:00Z' }], next: 't' },
    ],
  })
  for (const bad of [
    null,
    [],
    {},
    { results: {} },
    { results: [{}] },
    { results: [{}, {}, {}] },
    { results: [], x: 1 },
  ])
    assert.ok('why' in toBatchResults(bad, 2), JSON.stringify(bad))
  const one = (r: unknown) => {
    const out = toBatchResults({ results: [r] }, 1)
    assert.ok(!('why' in out))
    return out.results[0]!
  }
  assert.equal(one({ next_page_token: '' }).ok, true)
  for (const bad of [
    null,
    { vulns: null },
    { vulns: [null] },
    { vulns: [{ id: '' }] },
    { vulns: [{ id: 1 }] },
    { vulns: [{ id: 'a b' }] },
    { vulns: [{ id: 'x'.repeat(201) }] },
    { vulns: [{ id: 'GHSA-1', modified: 5 }] },
    { next_page_token: 1 },
    { next_page_token: null },
    { error: 'no' },
  ])
    assert.equal(one(bad).ok, false, JSON.stringify(bad))
})

test('toCheckedRecord accepts the real records and refuses another id', () => {
  const records = loadRecords(recordsDir)
  assert.ok(records.length > 10)
  for (const r of records) assert.equal(toCheckedRecord(structuredClone(r), r.id).id, r.id)
  assert.throws(() => toCheckedRecord(records[0], 'GHSA-other'), /not the id asked for/)
})

test('ids and untrusted strings are printable and bounded', () => {
  assert.equal(isOsvId('GHSA-xvch-5gv4-984h'), true)
  assert.equal(isOsvId('GHSA-\u001b[2J'), false)
  assert.equal(quoteUntrusted('\u001b[2J'), '"\\u001b[2J"')
  assert.equal(quoteUntrusted('x'.repeat(500)).length, 80)
})

test('the CLI default of --max-response-bytes is the client default', async () => {
  const r = await cli(['scan', '--help'])
  assert.equal(r.code, 0)
  assert.match(
    r.stdout.replace(/\s+/g, ' '),
    new RegExp(`--max-response-bytes <n> .*\\(default: "${DefaultMaxResponseBytes}"\\)`),
  )
})
