/**
 * `detbuild upload` against a loopback Dependency-Track (test/helpers/dtrack-server.ts): the documented
 * requests (PUT /api/v1/bom and /vex with X-Api-Key, base64 bodies, project by name + version or UUID,
 * autoCreate, parents), waiting on GET /api/v1/event/token/{token}, and the failures: a wrong key, an
 * unknown project, a server that never finishes, hostile replies (not JSON, wrong content type, huge, a
 * redirect to another host, no token, 5xx). The API key must never appear in any output or file.
 */
import assert from 'node:assert/strict'
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { ERROR_CODES } from '../../src/error-codes.ts'
import { startJsonValidation } from '../../src/sbom/index.ts'
import { runUpload } from '../../src/upload/index.ts'
import { sha256Hex } from '../../src/util/digest.ts'
import { silentLogger } from '../../src/util/log.ts'
import { cli } from '../helpers/cli.ts'
import { type DtFake, startDtrackFake } from '../helpers/dtrack-server.ts'
import { fixture, tempDir } from '../helpers/paths.ts'

const KEY = 'odt_s3cr3tKEYvalue0123456789abcdef'
const ENV = { DEPENDENCY_TRACK_API_KEY: KEY }
const PROJECT_UUID = 'c0ffee00-1234-4abc-8def-0123456789ab'

/** A project with an SBOM, a scan (offline, fixtures/osv/records) and a policy result with exceptions. */
function makeProject(): { dir: string; out: string } {
  const dir = tempDir('detbuild-upload-')
  cpSync(fixture('vulnerable-app'), dir, { recursive: true })
  writeFileSync(
    path.join(dir, 'upload-policy.json'),
    JSON.stringify({
      version: 1,
      vulnerabilities: { maxSeverity: 'low' },
      exceptions: [
        // by alias (the finding's id is GHSA-29mw-wpgm-hmr9), a CycloneDX justification word
        { vulnerability: 'CVE-2020-28500', purl: 'pkg:npm/lodash', justification: 'code_not_reachable' },
        // free text, any package
        {
          vulnerability: 'GHSA-xvch-5gv4-984h',
          justification: 'only parses our own fixed arguments',
          approvedBy: 'security@example.com',
        },
        // expired: never stated
        { vulnerability: 'GHSA-35jh-r3h4-6jhm', justification: 'old', expires: '2001-01-01' },
        // no finding: a note
        { vulnerability: 'GHSA-aaaa-bbbb-cccc', justification: 'nothing to say' },
      ],
    }),
  )
  return { dir, out: path.join(dir, '.detbuild') }
}

let base: { dir: string; out: string }

before(async () => {
  base = makeProject()
  const run = async (args: string[], ok: number[] = [0]) => {
    const r = await cli(['-C', base.dir, '-q', ...args])
    assert.ok(ok.includes(r.code), `${args.join(' ')}: ${r.code} ${r.stderr}`)
  }
  await run(['sbom'])
  await run(['scan', '--offline-db', fixture('osv', 'records')], [0, 1])
  await run(['policy', '--policy', 'upload-policy.json'], [0, 1])
})

/** A fresh copy of the prepared project (each test writes its own upload.json). */
function project(): { dir: string; out: string } {
  const dir = tempDir('detbuild-upload-')
  cpSync(base.dir, dir, { recursive: true })
  return { dir, out: path.join(dir, '.detbuild') }
}

/** Every byte a run left behind: stdout, stderr and the workspace's files. */
function everything(r: { stdout: string; stderr: string }, out: string): string {
  const files = existsSync(out)
    ? readdirSync(out, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => readFileSync(path.join(e.parentPath, e.name), 'latin1'))
    : []
  return [r.stdout, r.stderr, ...files].join('\n')
}

function upload(p: { dir: string }, fake: DtFake, more: string[] = [], env: Record<string, string> = ENV) {
  return cli(['-C', p.dir, '--json', 'upload', '--url', fake.url, ...more], { env })
}

let fake: DtFake
before(async () => {
  fake = await startDtrackFake({
    apiKey: KEY,
    projects: [{ uuid: PROJECT_UUID, name: 'known', version: '1.0.0', parent: null }],
  })
})
after(() => fake.close())

function reset(): void {
  fake.requests.length = 0
  fake.boms.length = 0
  fake.vexes.length = 0
  fake.next.length = 0
  fake.always = null
  fake.processingPolls = 0
  fake.neverFinish = false
  fake.canCreate = true
  fake.v4 = false
  fake.legacy = false
  fake.projects.splice(1)
}

describe('success', () => {
  test('auto-create by the SBOM root name and version; SBOM then VEX, each waited for; upload.json records it', async () => {
    reset()
    fake.processingPolls = 1
    const p = project()
    const r = await upload(p, fake, ['--auto-create'])
    assert.equal(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    // the SBOM's root component names the project
    assert.deepEqual(out.project, { name: 'vulnerable-app', version: '1.0.0' })
    assert.equal(fake.projects.length, 2)
    const created = fake.projects[1]!
    assert.equal(created.name, 'vulnerable-app')
    assert.equal(out.projectUuid, created.uuid)

    // the exact SBOM bytes, base64 in `bom`, the key in X-Api-Key, canonical JSON
    const sbomBytes = readFileSync(path.join(p.out, 'sbom.cdx.json'))
    assert.equal(fake.boms.length, 1)
    assert.deepEqual(fake.boms[0]!.bytes, sbomBytes)
    const put = fake.requests.find((q) => q.path === '/api/v1/bom')!
    assert.equal(put.method, 'PUT')
    assert.equal(put.apiKey, KEY)
    assert.equal(put.contentType, 'application/json')
    assert.deepEqual(Object.keys(JSON.parse(put.body)), [
      'autoCreate',
      'bom',
      'projectName',
      'projectVersion',
    ])
    assert.equal(out.sbom.sha256, sha256Hex(sbomBytes))

    // the order: SBOM, polled until processed, then the VEX, polled until processed
    const order = fake.requests.map((q) => `${q.method} ${q.path.replace(/[0-9a-f-]{36}$/, '{token}')}`)
    assert.deepEqual(order, [
      'PUT /api/v1/bom',
      'GET /api/v1/event/token/{token}',
      'GET /api/v1/event/token/{token}',
      'PUT /api/v1/vex',
      'GET /api/v1/event/token/{token}',
      'GET /api/v1/event/token/{token}',
    ])
    assert.equal(fake.requests[1]!.path, `/api/v1/event/token/${out.tokens.bom}`)

    // the VEX: the two exceptions in force that cover findings, on the affected components only
    assert.equal(fake.vexes.length, 1)
    const vex = JSON.parse(fake.vexes[0]!.bytes.toString('utf8'))
    assert.deepEqual(vex, JSON.parse(readFileSync(path.join(p.out, 'upload.vex.cdx.json'), 'utf8')))
    const statements = vex.vulnerabilities.map(
      (v: {
        id: string
        source: { name: string }
        analysis: Record<string, string>
        affects: { ref: string }[]
      }) => [
        v.id,
        v.source.name,
        v.analysis.state,
        v.analysis.justification ?? null,
        v.affects.map((a) => a.ref).join(','),
      ],
    )
    assert.deepEqual(statements, [
      ['CVE-2020-28500', 'NVD', 'not_affected', 'code_not_reachable', 'pkg:npm/lodash@4.17.20'],
      ['CVE-2021-44906', 'NVD', 'not_affected', null, 'pkg:npm/minimist@1.2.5'],
      ['GHSA-29mw-wpgm-hmr9', 'GITHUB', 'not_affected', 'code_not_reachable', 'pkg:npm/lodash@4.17.20'],
      ['GHSA-xvch-5gv4-984h', 'GITHUB', 'not_affected', null, 'pkg:npm/minimist@1.2.5'],
    ])
    const minimist = vex.vulnerabilities.find((v: { id: string }) => v.id === 'GHSA-xvch-5gv4-984h')
    assert.match(
      minimist.analysis.detail,
      /^only parses our own fixed arguments \(detbuild policy exception policy:exceptions\[1\], approved by security@example.com\)$/,
    )
    // every affects ref is a component of the VEX itself (what Dependency-Track's importer resolves)
    const refs = new Set(vex.components.map((c: Record<string, string>) => c['bom-ref']))
    for (const v of vex.vulnerabilities) for (const a of v.affects) assert.ok(refs.has(a.ref), a.ref)
    assert.deepEqual(
      vex.components.map((c: Record<string, string>) => c.purl),
      ['pkg:npm/lodash@4.17.20', 'pkg:npm/minimist@1.2.5'],
    )
    assert.equal(vex.metadata.timestamp, '2023-11-14T22:13:20Z')
    assert.equal(vex.metadata.component.name, 'vulnerable-app')
    // schema-valid CycloneDX 1.6
    const validation = startJsonValidation('1.6')
    const checked = await validation.validate(JSON.stringify(vex))
    await validation.close()
    assert.equal(checked.ok, true, JSON.stringify(checked))
    assert.deepEqual(
      out.notes.filter((n: string) => n.includes('GHSA-aaaa-bbbb-cccc')),
      ['policy:exceptions[3]: no finding of .detbuild/vulns.json is GHSA-aaaa-bbbb-cccc; not stated'],
    )

    const record = JSON.parse(readFileSync(path.join(p.out, 'upload.json'), 'utf8'))
    assert.deepEqual(record, {
      autoCreate: true,
      project: { name: 'vulnerable-app', version: '1.0.0' },
      projectUuid: created.uuid,
      schemaVersion: 1,
      sbom: { file: '.detbuild/sbom.cdx.json', sha256: sha256Hex(sbomBytes) },
      server: fake.url,
      tokens: out.tokens,
      vex: {
        file: '.detbuild/upload.vex.cdx.json',
        sha256: sha256Hex(fake.vexes[0]!.bytes),
        statements: 4,
      },
    })
    assert.ok(!everything(r, p.out).includes(KEY))
  })

  test('the same workspace sends the same bytes twice (deterministic bodies)', async () => {
    reset()
    fake.projects.push({
      uuid: PROJECT_UUID.replace('c0ffee00', 'c0ffee01'),
      name: 'vulnerable-app',
      version: '1.0.0',
      parent: null,
    })
    const p = project()
    assert.equal((await upload(p, fake)).code, 0)
    assert.equal((await upload(p, fake)).code, 0)
    const puts = fake.requests.filter((q) => q.method === 'PUT').map((q) => q.body)
    assert.equal(puts.length, 4)
    assert.equal(puts[0], puts[2])
    assert.equal(puts[1], puts[3])
  })

  test('by UUID (Dependency-Track 4.x reply: only a token); --no-vex sends only the SBOM; human text', async () => {
    reset()
    fake.v4 = true
    const p = project()
    const r = await cli(
      ['-C', p.dir, 'upload', '--url', `${fake.url}/`, '--project', PROJECT_UUID.toUpperCase(), '--no-vex'],
      {
        env: ENV,
      },
    )
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, new RegExp(`project ${PROJECT_UUID}: processed \\(token `))
    assert.equal(fake.vexes.length, 0)
    assert.equal(fake.boms[0]!.project, PROJECT_UUID)
    const body = JSON.parse(fake.requests[0]!.body)
    assert.deepEqual(Object.keys(body), ['bom', 'project'])
    const record = JSON.parse(readFileSync(path.join(p.out, 'upload.json'), 'utf8'))
    assert.equal(record.projectUuid, null)
    assert.equal(record.vex, null)
    assert.equal(existsSync(path.join(p.out, 'upload.vex.cdx.json')), false)
  })

  test('a parent by name places the auto-created project; --project-name/--project-version win over the SBOM', async () => {
    reset()
    const p = project()
    const r = await upload(p, fake, [
      '--auto-create',
      '--project-name',
      'svc',
      '--project-version',
      '2.0.0',
      '--parent-name',
      'known',
      '--parent-version',
      '1.0.0',
      '--no-vex',
    ])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(fake.projects[1], {
      uuid: fake.projects[1]!.uuid,
      name: 'svc',
      version: '2.0.0',
      parent: PROJECT_UUID,
    })
  })

  test('a stale policy.json (made from another SBOM) is refused before any request', async () => {
    reset()
    const p = project()
    const sbomFile = path.join(p.out, 'sbom.cdx.json')
    writeFileSync(sbomFile, `${readFileSync(sbomFile, 'utf8').trimEnd()}\n\n`)
    const r = await upload(p, fake, ['--auto-create'])
    assert.equal(r.code, 2)
    assert.equal(JSON.parse(r.stdout).error.code, 'UPLOAD_VEX_STALE')
    assert.equal(fake.requests.length, 0)
    // --no-vex sends the SBOM alone
    assert.equal((await upload(p, fake, ['--auto-create', '--no-vex'])).code, 0)
  })
})

describe('the server says no', () => {
  const cases: Array<{
    name: string
    args?: string[]
    env?: Record<string, string>
    setup?: () => void
    code: string
  }> = [
    {
      name: 'a wrong API key (401)',
      env: { DEPENDENCY_TRACK_API_KEY: 'odt_wrong' },
      code: 'UPLOAD_UNAUTHORIZED',
    },
    { name: 'an unknown project without --auto-create (404)', code: 'UPLOAD_PROJECT_NOT_FOUND' },
    {
      name: 'an unknown project UUID (404)',
      args: ['--project', PROJECT_UUID.replace('c0', 'dd')],
      code: 'UPLOAD_PROJECT_NOT_FOUND',
    },
    {
      name: 'auto-create without the permission (401 "permission to create project")',
      args: ['--auto-create'],
      setup: () => {
        fake.canCreate = false
      },
      code: 'UPLOAD_FORBIDDEN',
    },
    {
      name: 'an unknown parent (404)',
      args: ['--auto-create', '--parent-name', 'nope'],
      code: 'UPLOAD_PROJECT_NOT_FOUND',
    },
    {
      name: '403 forbidden',
      setup: () =>
        fake.next.push({
          kind: 'reply',
          status: 403,
          body: '{"title":"Forbidden"}',
          contentType: 'application/problem+json',
        }),
      code: 'UPLOAD_FORBIDDEN',
    },
    {
      name: '400 an invalid BOM (problem details)',
      args: ['--sbom', 'not-cdx.json', '--project-name', 'x', '--project-version', '1'],
      setup: () =>
        fake.next.push({
          kind: 'reply',
          status: 400,
          body: '{"status":400,"title":"The uploaded BOM is invalid","detail":"$.components[0].type: does not have a value in the enumeration"}',
          contentType: 'application/problem+json',
        }),
      code: 'UPLOAD_REJECTED',
    },
    {
      name: '409 conflict',
      args: ['--auto-create'],
      setup: () =>
        fake.next.push({
          kind: 'reply',
          status: 409,
          body: 'A project with the specified name and version already exists.',
        }),
      code: 'UPLOAD_CONFLICT',
    },
  ]
  for (const c of cases)
    test(`${c.name} → ${c.code}, exit ${ERROR_CODES[c.code as keyof typeof ERROR_CODES].exit}; nothing recorded`, async () => {
      reset()
      c.setup?.()
      const p = project()
      writeFileSync(
        path.join(p.dir, 'not-cdx.json'),
        '{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"frob"}]}',
      )
      const r = await upload(p, fake, [...(c.args ?? []), '--no-vex'], c.env ?? ENV)
      const err = JSON.parse(r.stdout).error
      assert.equal(err.code, c.code, r.stderr)
      assert.equal(r.code, ERROR_CODES[c.code as keyof typeof ERROR_CODES].exit)
      assert.equal(existsSync(path.join(p.out, 'upload.json')), false)
      assert.ok(!everything(r, p.out).includes(KEY))
      assert.ok(!everything(r, p.out).includes('odt_wrong'))
    })

  test("the server's reason is quoted in the message, on one line", async () => {
    reset()
    const p = project()
    const r = await cli(['-C', p.dir, 'upload', '--url', fake.url], { env: ENV })
    assert.equal(r.code, 2)
    assert.match(
      r.stderr,
      /\ndetbuild: error \[UPLOAD_PROJECT_NOT_FOUND\]: PUT \/api\/v1\/bom: HTTP 404 \(The project could not be found\.\); pass --auto-create to create it\n$/,
    )
  })
})

describe('could not complete (exit 3)', () => {
  test('still processing when --wait runs out → UPLOAD_TIMEOUT; nothing recorded', async () => {
    reset()
    fake.neverFinish = true
    const p = project()
    const r = await upload(p, fake, ['--project', PROJECT_UUID, '--wait', '1', '--no-vex'])
    assert.equal(r.code, 3)
    assert.equal(JSON.parse(r.stdout).error.code, 'UPLOAD_TIMEOUT')
    assert.match(
      JSON.parse(r.stdout).error.message,
      /^the SBOM: Dependency-Track was still processing it after --wait 1 s/,
    )
    assert.ok(
      fake.requests.filter((q) => q.method === 'GET').length >= 2,
      JSON.stringify([r.stdout, fake.requests.map((q) => q.method + q.path)]),
    )
    assert.equal(existsSync(path.join(p.out, 'upload.json')), false)
  })

  test('a server that never answers is bounded by --wait', async () => {
    reset()
    fake.always = { kind: 'hang' }
    const p = project()
    const r = await upload(p, fake, ['--project', PROJECT_UUID, '--wait', '1s', '--no-vex'])
    assert.equal(r.code, 3)
    assert.match(JSON.parse(r.stdout).error.code, /^UPLOAD_(UNAVAILABLE|TIMEOUT)$/)
  })

  test('5xx is retried, then fails closed; a retried 503 that recovers succeeds', async () => {
    reset()
    fake.always = { kind: 'reply', status: 503, body: 'down' }
    const p = project()
    const down = await upload(p, fake, ['--project', PROJECT_UUID, '--no-vex'])
    assert.equal(down.code, 3)
    assert.equal(JSON.parse(down.stdout).error.code, 'UPLOAD_UNAVAILABLE')
    assert.equal(fake.requests.length, 3)
    reset()
    fake.next.push({ kind: 'reply', status: 503, body: 'down' })
    assert.equal((await upload(p, fake, ['--project', PROJECT_UUID, '--no-vex'])).code, 0)
  })

  test('nothing listening → UPLOAD_UNAVAILABLE', async () => {
    const other = await startDtrackFake({ apiKey: KEY })
    const url = other.url
    await other.close()
    const p = project()
    const r = await cli(
      ['-C', p.dir, '--json', 'upload', '--url', url, '--project', PROJECT_UUID, '--no-vex'],
      { env: ENV },
    )
    assert.equal(r.code, 3)
    assert.equal(JSON.parse(r.stdout).error.code, 'UPLOAD_UNAVAILABLE')
  })

  const hostile: Array<{
    name: string
    fault: import('../helpers/dtrack-server.ts').DtFault
    code: string
    poll?: boolean
  }> = [
    {
      name: 'not JSON',
      fault: { kind: 'reply', status: 200, body: '{"token": ', contentType: 'application/json' },
      code: 'UPLOAD_REPLY_INVALID',
    },
    {
      name: 'text/html',
      fault: { kind: 'reply', status: 200, body: '<html>login</html>', contentType: 'text/html' },
      code: 'UPLOAD_REPLY_INVALID',
    },
    {
      name: 'no token',
      fault: { kind: 'reply', status: 200, body: '{"ok":true}', contentType: 'application/json' },
      code: 'UPLOAD_REPLY_INVALID',
    },
    {
      name: 'a token that is not a UUID (a path)',
      fault: { kind: 'reply', status: 200, body: '{"token":"../../admin"}', contentType: 'application/json' },
      code: 'UPLOAD_REPLY_INVALID',
    },
    {
      name: 'an array',
      fault: { kind: 'reply', status: 200, body: '[]', contentType: 'application/json' },
      code: 'UPLOAD_REPLY_INVALID',
    },
    { name: '204 no content', fault: { kind: 'reply', status: 204, body: '' }, code: 'UPLOAD_REPLY_INVALID' },
    { name: 'a body without end', fault: { kind: 'endless' }, code: 'UPLOAD_REPLY_INVALID' },
    {
      name: 'a huge declared length',
      fault: {
        kind: 'reply',
        status: 200,
        body: '{}',
        contentType: 'application/json',
        headers: { 'content-length': '999999999' },
      },
      code: 'UPLOAD_REPLY_INVALID',
    },
    {
      name: 'a redirect to another host',
      fault: { kind: 'redirect', status: 307, location: 'https://evil.example/steal' },
      code: 'UPLOAD_REDIRECT',
    },
    {
      name: 'a 308 redirect to itself',
      fault: { kind: 'redirect', status: 308, location: '/api/v1/bom' },
      code: 'UPLOAD_REDIRECT',
    },
    {
      name: 'the SBOM stored in another project than the UUID named',
      fault: {
        kind: 'reply',
        status: 200,
        body: JSON.stringify({ token: PROJECT_UUID, projectUuid: PROJECT_UUID.replace('c0', 'dd') }),
        contentType: 'application/json',
      },
      code: 'UPLOAD_REPLY_INVALID',
    },
    {
      name: 'processing that is not a boolean',
      fault: { kind: 'reply', status: 200, body: '{"processing":"false"}', contentType: 'application/json' },
      code: 'UPLOAD_REPLY_INVALID',
      poll: true,
    },
    {
      name: 'an error page that echoes the key',
      fault: { kind: 'reply', status: 400, body: `bad key ${KEY} from you` },
      code: 'UPLOAD_REJECTED',
    },
  ]
  for (const h of hostile)
    test(`a hostile reply (${h.name}) → ${h.code}, never OK; the key is in no output`, async () => {
      reset()
      if (h.poll)
        fake.next.push({
          kind: 'reply',
          status: 200,
          body: JSON.stringify({ token: PROJECT_UUID }),
          contentType: 'application/json',
        })
      fake.next.push(h.fault)
      const p = project()
      const r = await upload(p, fake, ['--project', PROJECT_UUID, '--no-vex'])
      assert.equal(JSON.parse(r.stdout).error.code, h.code, r.stdout)
      assert.equal(r.code, ERROR_CODES[h.code as keyof typeof ERROR_CODES].exit)
      assert.equal(existsSync(path.join(p.out, 'upload.json')), false)
      assert.ok(!everything(r, p.out).includes(KEY))
      // a redirect is never followed: the only request went to the configured server
      assert.equal(fake.requests.filter((q) => q.method === 'PUT').length, 1)
    })
})

describe('bad input (exit 2), before any request', () => {
  const cases: Array<{ name: string; args: string[]; env?: Record<string, string>; code: string }> = [
    { name: 'no API key', args: [], env: {}, code: 'UPLOAD_API_KEY_MISSING' },
    {
      name: 'a key with a line break',
      args: [],
      env: { DEPENDENCY_TRACK_API_KEY: 'odt_a\r\nX-Evil: 1' },
      code: 'UPLOAD_API_KEY_INVALID',
    },
    {
      name: 'http to a remote host',
      args: ['--url', 'http://dtrack.example.com'],
      code: 'UPLOAD_INSECURE_URL',
    },
    {
      name: 'credentials in the URL',
      args: ['--url', 'https://user:pw@dtrack.example.com'],
      code: 'UPLOAD_URL_INVALID',
    },
    {
      name: 'a query in the URL',
      args: ['--url', 'https://dtrack.example.com/?apiKey=x'],
      code: 'UPLOAD_URL_INVALID',
    },
    { name: 'not a URL', args: ['--url', 'dtrack'], code: 'UPLOAD_URL_INVALID' },
    { name: 'ftp', args: ['--url', 'ftp://dtrack.example.com'], code: 'UPLOAD_URL_INVALID' },
    {
      name: 'the /api prefix in the URL',
      args: ['--url', 'https://dtrack.example.com/api/v1/bom'],
      code: 'UPLOAD_URL_INVALID',
    },
    { name: 'a bad project UUID', args: ['--project', 'not-a-uuid'], code: 'UPLOAD_USAGE' },
    {
      name: '--project with --project-name',
      args: ['--project', PROJECT_UUID, '--project-name', 'x'],
      code: 'UPLOAD_USAGE',
    },
    {
      name: '--project with --auto-create',
      args: ['--project', PROJECT_UUID, '--auto-create'],
      code: 'UPLOAD_USAGE',
    },
    { name: 'a parent without --auto-create', args: ['--parent-name', 'known'], code: 'UPLOAD_USAGE' },
    { name: '--wait 0', args: ['--wait', '0'], code: 'UPLOAD_USAGE' },
    { name: '--wait 500ms (under a second)', args: ['--wait', '500ms'], code: 'UPLOAD_USAGE' },
    { name: '--wait 5 minutes', args: ['--wait', '5 minutes'], code: 'UPLOAD_USAGE' },
    {
      name: 'a project name with a control character',
      args: ['--project-name', 'a\u001bb', '--project-version', '1'],
      code: 'UPLOAD_USAGE',
    },
    { name: 'no SBOM', args: ['--sbom', 'missing.json'], code: 'UPLOAD_SBOM_MISSING' },
    { name: 'an SBOM that is not CycloneDX', args: ['--sbom', 'package.json'], code: 'UPLOAD_SBOM_INVALID' },
  ]
  for (const c of cases)
    test(`${c.name} → ${c.code}`, async () => {
      reset()
      const p = project()
      const args = c.args.includes('--url') ? c.args : ['--url', fake.url, ...c.args]
      const r = await cli(['-C', p.dir, '--json', 'upload', ...args], { env: c.env ?? ENV })
      assert.equal(r.code, 2, r.stderr)
      assert.equal(JSON.parse(r.stdout).error.code, c.code)
      assert.equal(fake.requests.length, 0)
      assert.ok(!everything(r, p.out).includes('odt_a'))
      assert.ok(!everything(r, p.out).includes(KEY))
    })

  test('--api-key-env reads another variable; the message names the variable, not a value', async () => {
    reset()
    const p = project()
    const missing = await cli(['-C', p.dir, 'upload', '--url', fake.url, '--api-key-env', 'MY_DT_KEY'], {
      env: ENV,
    })
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /UPLOAD_API_KEY_MISSING.*MY_DT_KEY/)
    const ok = await cli(
      [
        '-C',
        p.dir,
        '-q',
        'upload',
        '--url',
        fake.url,
        '--api-key-env',
        'MY_DT_KEY',
        '--project',
        PROJECT_UUID,
      ],
      {
        env: { MY_DT_KEY: KEY },
      },
    )
    assert.equal(ok.code, 0, ok.stderr)
  })

  test('an SBOM over the 20,000,000-character base64 limit is refused before sending', async () => {
    reset()
    const p = project()
    const big = Buffer.alloc(15_000_001, 0x20)
    Buffer.from('{"bomFormat":"CycloneDX","x":""}').copy(big)
    writeFileSync(path.join(p.dir, 'big.json'), big)
    const r = await upload(p, fake, ['--sbom', 'big.json', '--project', PROJECT_UUID])
    assert.equal(r.code, 2)
    assert.equal(JSON.parse(r.stdout).error.code, 'UPLOAD_TOO_LARGE')
    assert.equal(fake.requests.length, 0)
  })
})

test('the core: polling backs off, bounded by the deadline (injected clock, no real waiting)', async () => {
  reset()
  fake.neverFinish = true
  const p = project()
  let now = 0
  const pauses: number[] = []
  await assert.rejects(
    runUpload({
      cwd: p.dir,
      out: p.out,
      url: fake.url,
      apiKey: KEY,
      apiKeyEnv: 'DEPENDENCY_TRACK_API_KEY',
      project: { uuid: PROJECT_UUID },
      autoCreate: false,
      vex: false,
      allowHttp: false,
      waitMs: 20_000,
      sourceDateEpoch: 0,
      log: silentLogger,
      clock: () => now,
      sleep: async (ms) => {
        pauses.push(ms)
        now += ms
      },
    }),
    (e: { code: string }) => e.code === 'UPLOAD_TIMEOUT',
  )
  assert.deepEqual(pauses.slice(0, 8), [500, 750, 1125, 1688, 2532, 3798, 5000, 4607])
  assert.equal(
    pauses.reduce((a, b) => a + b, 0),
    20_000,
  )
})

test('notes quoting a hostile policy.json show its control characters, never obey them', async () => {
  reset()
  const p = project()
  const file = path.join(p.out, 'policy.json')
  const doc = JSON.parse(readFileSync(file, 'utf8'))
  doc.exceptions[3].ref = 'policy:x\u001b[2J\u001b]0;pwned\u0007'
  writeFileSync(file, JSON.stringify(doc))
  const r = await cli(['-C', p.dir, 'upload', '--url', fake.url, '--auto-create'], { env: ENV })
  assert.equal(r.code, 0, r.stderr)
  assert.ok(!/[\u0000-\u0009\u000b-\u001f]/.test(r.stdout), JSON.stringify(r.stdout))
  assert.match(r.stdout, /note: policy:x\\u001b\[2J\\u001b\]0;pwned\\u0007: no finding/)
})

test('a server before 4.11 (only GET /api/v1/bom/token): the older route is asked; a server with neither fails closed', async () => {
  reset()
  fake.legacy = true
  fake.processingPolls = 1
  const p = project()
  const r = await upload(p, fake, ['--project', PROJECT_UUID, '--no-vex'])
  assert.equal(r.code, 0, r.stdout)
  assert.deepEqual(
    fake.requests.map((q) => `${q.method} ${q.path.replace(/[0-9a-f-]{36}$/, '{token}')}`),
    [
      'PUT /api/v1/bom',
      'GET /api/v1/event/token/{token}',
      'GET /api/v1/bom/token/{token}',
      'GET /api/v1/bom/token/{token}',
    ],
  )
  reset()
  fake.next.push(
    {
      kind: 'reply',
      status: 200,
      body: JSON.stringify({ token: PROJECT_UUID }),
      contentType: 'application/json',
    },
    { kind: 'reply', status: 404, body: 'Not Found' },
    { kind: 'reply', status: 404, body: 'Not Found' },
  )
  const none = await upload(p, fake, ['--project', PROJECT_UUID, '--no-vex'])
  assert.equal(none.code, 3)
  assert.equal(JSON.parse(none.stdout).error.code, 'UPLOAD_REPLY_INVALID')
})

test('a VEX the server refuses after the SBOM went in: the message says the SBOM is in; nothing recorded', async () => {
  reset()
  const p = project()
  fake.next.push(
    {
      kind: 'reply',
      status: 200,
      body: JSON.stringify({ token: PROJECT_UUID }),
      contentType: 'application/json',
    },
    { kind: 'reply', status: 200, body: '{"processing":false}', contentType: 'application/json' },
    { kind: 'reply', status: 403, body: 'Forbidden' },
  )
  const r = await upload(p, fake, ['--project', PROJECT_UUID])
  assert.equal(r.code, 2)
  const err = JSON.parse(r.stdout).error
  assert.equal(err.code, 'UPLOAD_FORBIDDEN')
  assert.match(
    err.message,
    new RegExp(
      `^the SBOM was uploaded and processed \\(token ${PROJECT_UUID}\\), the VEX was not: PUT /api/v1/vex: HTTP 403`,
    ),
  )
  assert.equal(existsSync(path.join(p.out, 'upload.json')), false)
})
