/**
 * The online scan against a hostile OSV server: every reply shape that is not an OSV reply, redirects,
 * endless bodies and doctored records make the packages concerned unchecked (exit 3, with a code), and
 * never "no known vulnerabilities". The honest parts are the real OSV records of fixtures/osv/records.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { runScan, type ScanOptions, type ScanResult } from '../../src/scan/index.ts'
import { silentLogger } from '../../src/util/log.ts'
import { WorkspaceFiles } from '../../src/workspace/index.ts'
import { EndlessLimit, type Fault, loadRecords, type OsvFake, startOsvFake } from '../helpers/osv-server.ts'
import { recordsDir, tempDir, writeDirectSbom } from './helpers.ts'

const records = loadRecords(recordsDir)
const pkgs = [
  { name: 'minimist', version: '1.2.5' },
  { name: 'lodash', version: '4.17.20' },
  { name: 'express', version: '4.19.1' },
  { name: 'left-pad', version: '1.3.0' },
]
const MINIMIST = 'pkg:npm/minimist@1.2.5'
const MINIMIST_VULN = 'GHSA-xvch-5gv4-984h'
/** the purls in the order the client queries them (sorted) */
const queried = pkgs.map((p) => `pkg:npm/${p.name}@${p.version}`).sort()
const ALL = [...queried]
const at = queried.indexOf(MINIMIST)

let fake: OsvFake
let other: { url: string; requests: string[]; server: Server }
let work: { dir: string; cleanup: () => Promise<void> }

before(async () => {
  fake = await startOsvFake(records)
  // another origin: a redirect must never lead a request here
  const requests: string[] = []
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`)
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[]}')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  other = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server }
  work = await tempDir()
  await writeDirectSbom(path.join(work.dir, 'sbom.json'), pkgs)
})
after(async () => {
  await fake.close()
  other.server.closeAllConnections()
  await new Promise<void>((r) => other.server.close(() => r()))
  await work.cleanup()
})

function reset(): void {
  fake.faults.querybatch.length = 0
  fake.faults.vulns.length = 0
  fake.always.querybatch = null
  fake.always.vulns = null
  fake.requests.querybatch = 0
  fake.requests.vulns = 0
  fake.stream = null
  other.requests.length = 0
}

function options(extra: Partial<ScanOptions> = {}): ScanOptions {
  return {
    cwd: work.dir,
    out: path.join(work.dir, 'out'),
    sbom: 'sbom.json',
    osvUrl: fake.url,
    cacheDir: null,
    failOn: null,
    omitDev: false,
    env: { SOURCE_DATE_EPOCH: '1700000000' },
    now: new Date('2026-01-01T00:00:00Z'),
    log: silentLogger,
    ...extra,
    client: { sleep: async () => {}, random: () => 0.5, timeoutMs: 5000, retries: 1, ...extra.client },
  }
}

/** Exit 3, exactly `purls` unchecked with `code`, named in the text and in vulns.json; never clean. */
async function assertUnchecked(r: ScanResult, purls: string[], code: string): Promise<void> {
  assert.equal(r.exitCode, 3)
  assert.equal(r.report.complete, false)
  assert.deepEqual(r.report.unchecked, [...purls].sort())
  for (const p of purls) {
    assert.ok(r.report.uncheckedReasons[p]?.startsWith(`${code}: `), `${p}: ${r.report.uncheckedReasons[p]}`)
    assert.ok(r.text.includes(`  ${p}: ${code}: `), r.text)
  }
  assert.match(r.text, /INCOMPLETE/)
  assert.doesNotMatch(r.text, /no known vulnerabilities/)
  const written = JSON.parse(await readFile(path.join(work.dir, 'out', WorkspaceFiles.vulns), 'utf8'))
  assert.equal(written.complete, false)
  assert.deepEqual(written.unchecked, r.report.unchecked)
  assert.deepEqual(written.uncheckedReasons, r.report.uncheckedReasons)
}

type Results = { results: Array<Record<string, unknown>> }
const rewrite = (f: (honest: Results) => unknown): Fault => ({
  kind: 'rewrite',
  rewrite: (h) => f(h as Results),
})
/** rewrites minimist's result only */
const minimistResult = (f: (r: Record<string, unknown>) => unknown): Fault =>
  rewrite((h) => {
    h.results[at] = f(h.results[at]!) as Record<string, unknown>
    return h
  })

test('the honest fake gives a complete scan (baseline for the hostile cases)', async () => {
  reset()
  const r = await runScan(options())
  assert.equal(r.exitCode, 0)
  assert.equal(r.report.complete, true)
  assert.ok(r.report.findings.some((f) => f.purl === MINIMIST && f.id === MINIMIST_VULN))
})

const wholeReply: Array<[string, Fault]> = [
  ['results count short', rewrite((h) => ({ results: h.results.slice(0, -1) }))],
  ['results count long', rewrite((h) => ({ results: [...h.results, {}] }))],
  ['results empty', rewrite(() => ({ results: [] }))],
  ['results not an array', rewrite((h) => ({ results: Object.fromEntries(h.results.entries()) }))],
  ['results null', rewrite(() => ({ results: null }))],
  ['no results at all (empty object)', rewrite(() => ({}))],
  ['unknown top-level shape', rewrite((h) => ({ data: h.results }))],
  ['an extra top-level field', rewrite((h) => ({ ...h, error: 'quota exceeded' }))],
  ['a JSON array', rewrite((h) => h.results)],
  ['JSON null', rewrite(() => null)],
  ['a JSON string', rewrite(() => 'ok')],
  ['a non-JSON body', { kind: 'body', body: 'results: none' }],
  [
    'an HTML page with 200',
    { kind: 'body', body: '<html><body>Login</body></html>', contentType: 'text/html' },
  ],
  ['an empty body', { kind: 'body', body: '' }],
]
for (const [name, fault] of wholeReply) {
  test(`querybatch reply: ${name} → every queried package unchecked, SCAN_OSV_REPLY_INVALID`, async () => {
    reset()
    fake.always.querybatch = fault
    await assertUnchecked(await runScan(options()), ALL, 'SCAN_OSV_REPLY_INVALID')
  })
}

test('querybatch reply: a body that is not UTF-8 → SCAN_OSV_REPLY_INVALID', async () => {
  reset()
  // \xff is never valid UTF-8; a lenient decoder would turn it into U+FFFD and read a clean reply
  const raw = await startRawOnce(
    Buffer.concat([Buffer.from('{"results":[{},{},{},{"x":"'), Buffer.from([0xff]), Buffer.from('"}]}')]),
  )
  try {
    await assertUnchecked(await runScan(options({ osvUrl: raw.url })), ALL, 'SCAN_OSV_REPLY_INVALID')
  } finally {
    await raw.close()
  }
})

const oneResult: Array<[string, Fault]> = [
  ['a null result entry', minimistResult(() => null)],
  ['a result that is an array', minimistResult(() => [])],
  ['a result that is a string', minimistResult(() => 'none')],
  ['vulns not an array', minimistResult((r) => ({ vulns: (r.vulns as unknown[])[0] }))],
  ['vulns null', minimistResult(() => ({ vulns: null }))],
  ['a null vuln entry', minimistResult((r) => ({ vulns: [...(r.vulns as unknown[]), null] }))],
  ['vuln id a number', minimistResult(() => ({ vulns: [{ id: 44906, modified: '2023-02-27T14:47:14Z' }] }))],
  [
    'vuln id an empty string',
    minimistResult(() => ({ vulns: [{ id: '', modified: '2023-02-27T14:47:14Z' }] })),
  ],
  ['vuln id null', minimistResult(() => ({ vulns: [{ id: null, modified: '2023-02-27T14:47:14Z' }] }))],
  ['vuln id missing', minimistResult(() => ({ vulns: [{ modified: '2023-02-27T14:47:14Z' }] }))],
  ['vuln id with control characters', minimistResult(() => ({ vulns: [{ id: 'GHSA-\u001b[2J' }] }))],
  [
    'vuln modified a number',
    minimistResult(() => ({ vulns: [{ id: MINIMIST_VULN, modified: 1677509234 }] })),
  ],
  ['next_page_token a number', minimistResult((r) => ({ ...r, next_page_token: 2 }))],
  ['next_page_token an object', minimistResult((r) => ({ ...r, next_page_token: { page: 2 } }))],
  ['next_page_token null', minimistResult((r) => ({ ...r, next_page_token: null }))],
  ['an error field in the result', minimistResult(() => ({ error: 'invalid purl' }))],
]
for (const [name, fault] of oneResult) {
  test(`querybatch result: ${name} → that package unchecked, SCAN_OSV_REPLY_INVALID; the others checked`, async () => {
    reset()
    fake.always.querybatch = fault
    const r = await runScan(options())
    await assertUnchecked(r, [MINIMIST], 'SCAN_OSV_REPLY_INVALID')
    assert.equal(r.report.componentsChecked, pkgs.length - 1)
    assert.ok(
      r.report.findings.some((f) => f.name === 'lodash'),
      'the other packages were checked',
    )
  })
}

test('a server that paginates forever: SCAN_OSV_TOO_MANY_PAGES', async () => {
  reset()
  // page 1: four queries, minimist's result has a token; every later page: minimist alone, a token again
  fake.always.querybatch = rewrite((h) => {
    const i = h.results.length === 1 ? 0 : at
    h.results[i] = { ...h.results[i], next_page_token: 'again' }
    return h
  })
  const r = await runScan(options())
  await assertUnchecked(r, [MINIMIST], 'SCAN_OSV_TOO_MANY_PAGES')
  assert.equal(fake.requests.querybatch, 50)
})

for (const status of [301, 302, 303, 307, 308] as const) {
  test(`querybatch redirect ${status} to another origin: not followed, SCAN_OSV_REDIRECT, no retry`, async () => {
    reset()
    fake.always.querybatch = { kind: 'redirect', status, location: `${other.url}/v1/querybatch` }
    await assertUnchecked(await runScan(options({ client: { retries: 3 } })), ALL, 'SCAN_OSV_REDIRECT')
    assert.deepEqual(other.requests, [], 'the other origin received no request')
    assert.equal(fake.requests.querybatch, 1, 'a redirect is not transient: no retry')
  })
}

test('record redirect to another origin: not followed; the packages that need the record are unchecked', async () => {
  reset()
  fake.always.vulns = { kind: 'redirect', status: 302, location: `${other.url}/v1/vulns/x` }
  const r = await runScan(options())
  await assertUnchecked(
    r,
    ALL.filter((p) => !p.includes('left-pad')),
    'SCAN_OSV_REDIRECT',
  )
  assert.deepEqual(other.requests, [])
})

test('an endless querybatch body: the read is aborted at --max-response-bytes, SCAN_OSV_REPLY_TOO_LARGE', async () => {
  reset()
  fake.always.querybatch = { kind: 'endless' }
  const cap = 1024 * 1024
  const r = await runScan(options({ client: { maxResponseBytes: cap, retries: 2 } }))
  await assertUnchecked(r, ALL, 'SCAN_OSV_REPLY_TOO_LARGE')
  assert.equal(fake.requests.querybatch, 1, 'over the cap is not transient: no retry')
  const stream = fake.stream!
  await stream.done
  assert.equal(stream.closedEarly, true, 'the client hung up before the end of the body')
  assert.ok(stream.sent < 32 * cap, `the server could send only ${stream.sent} bytes`)
  assert.ok(stream.sent < EndlessLimit)
})

test('a huge declared Content-Length is refused before reading the body', async () => {
  reset()
  fake.always.querybatch = { kind: 'endless', declareLength: true }
  const cap = 1024 * 1024
  await assertUnchecked(
    await runScan(options({ client: { maxResponseBytes: cap } })),
    ALL,
    'SCAN_OSV_REPLY_TOO_LARGE',
  )
  await fake.stream!.done
  assert.equal(fake.stream!.closedEarly, true)
  assert.ok(fake.stream!.sent < 32 * cap)
})

test('an oversized record: the packages that need it are unchecked, SCAN_OSV_REPLY_TOO_LARGE', async () => {
  reset()
  fake.always.vulns = {
    kind: 'rewrite',
    rewrite: (rec) => {
      const r = rec as Record<string, unknown>
      return r.id === MINIMIST_VULN ? { ...r, details: 'x'.repeat(300_000) } : r
    },
  }
  const r = await runScan(options({ client: { maxResponseBytes: 100_000 } }))
  await assertUnchecked(r, [MINIMIST], 'SCAN_OSV_REPLY_TOO_LARGE')
  // the vulnerability is known to apply; only its details are missing: it is still reported
  const f = r.report.findings.find((x) => x.purl === MINIMIST)
  assert.equal(f?.id, MINIMIST_VULN)
  assert.equal(f?.severity, 'unknown')
})

const badRecords: Array<[string, (r: Record<string, unknown>) => unknown]> = [
  ['another id than asked for', (r) => ({ ...r, id: 'GHSA-0000-0000-0000' })],
  ['an alias instead of the id', (r) => ({ ...r, id: 'CVE-2021-44906' })],
  ['no id', ({ id: _id, ...r }) => r],
  ['affected not an array', (r) => ({ ...r, affected: (r.affected as unknown[])[0] })],
  ['a null affected entry', (r) => ({ ...r, affected: [null] })],
  [
    'ranges not an array',
    (r) => ({ ...r, affected: [{ package: { ecosystem: 'npm', name: 'minimist' }, ranges: {} }] }),
  ],
  [
    'an event value that is a number',
    (r) => ({
      ...r,
      affected: [
        {
          package: { ecosystem: 'npm', name: 'minimist' },
          ranges: [{ type: 'SEMVER', events: [{ introduced: 0 }] }],
        },
      ],
    }),
  ],
  ['package.name a number', (r) => ({ ...r, affected: [{ package: { ecosystem: 'npm', name: 7 } }] })],
  [
    'versions not strings',
    (r) => ({ ...r, affected: [{ package: { ecosystem: 'npm', name: 'minimist' }, versions: [1, 2] }] }),
  ],
  ['modified a number', (r) => ({ ...r, modified: 1677509234 })],
  ['modified not a timestamp', (r) => ({ ...r, modified: 'yesterday' })],
  ['withdrawn not a string', (r) => ({ ...r, withdrawn: true })],
  ['severity not an array', (r) => ({ ...r, severity: { type: 'CVSS_V3', score: 'x' } })],
  ['a severity score that is a number', (r) => ({ ...r, severity: [{ type: 'CVSS_V3', score: 9.8 }] })],
  ['aliases with null', (r) => ({ ...r, aliases: [null] })],
  ['summary an object', (r) => ({ ...r, summary: { text: 'hi' } })],
  ['references without url', (r) => ({ ...r, references: [{ type: 'WEB' }] })],
  ['database_specific.severity a number', (r) => ({ ...r, database_specific: { severity: 9 } })],
  ['cwe_ids not strings', (r) => ({ ...r, database_specific: { cwe_ids: [1321] } })],
  ['null', () => null],
  ['an array', (r) => [r]],
]
for (const [name, doctor] of badRecords) {
  test(`full record with ${name}: the packages that reference it are unchecked, SCAN_OSV_RECORD_INVALID`, async () => {
    reset()
    fake.always.vulns = {
      kind: 'rewrite',
      rewrite: (rec) =>
        (rec as { id: string }).id === MINIMIST_VULN ? doctor(rec as Record<string, unknown>) : rec,
    }
    const r = await runScan(options())
    await assertUnchecked(r, [MINIMIST], 'SCAN_OSV_RECORD_INVALID')
    assert.match(r.report.uncheckedReasons[MINIMIST]!, /details of GHSA-xvch-5gv4-984h unavailable/)
    const f = r.report.findings.find((x) => x.purl === MINIMIST)
    assert.equal(f?.id, MINIMIST_VULN, 'the vulnerability is still reported')
    assert.equal(f?.severity, 'unknown')
  })
}

/** A server that answers every request with the same raw bytes (200, application/json). */
async function startRawOnce(body: Buffer): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(body)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}
