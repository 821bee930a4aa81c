/**
 * The Action's Dependency-Track upload (src/action/upload-step.ts, run in-process through runAction):
 * after the steps, with the key from the job's DEPENDENCY_TRACK_API_KEY; after a check said no (exit 1)
 * it still uploads; a failed upload fails the job with failed-step "upload"; bad inputs stop the job
 * before any step runs; the key is masked and appears in no output, summary or workspace file.
 */
import assert from 'node:assert/strict'
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { inputVariable } from '../../src/action/inputs.ts'
import { runAction } from '../../src/action/run-action.ts'
import { type DtFake, startDtrackFake } from '../helpers/dtrack-server.ts'
import { fixture } from '../helpers/paths.ts'

const KEY = 'odt_actionKEY0123456789abcdefghij'
const bases: string[] = []
let fake: DtFake
before(async () => {
  fake = await startDtrackFake({ apiKey: KEY })
})
after(async () => {
  await fake.close()
  for (const b of bases) rmSync(b, { recursive: true, force: true })
})

function newRepo(): string {
  const base = mkdtempSync(path.join(os.tmpdir(), 'detbuild-dt-action-'))
  bases.push(base)
  const repo = path.join(base, 'repo')
  cpSync(fixture('vulnerable-app'), repo, { recursive: true })
  writeFileSync(
    path.join(repo, 'dt-policy.json'),
    JSON.stringify({
      version: 1,
      vulnerabilities: { maxSeverity: 'low' },
      exceptions: [{ vulnerability: 'GHSA-29mw-wpgm-hmr9', justification: 'code_not_present' }],
    }),
  )
  return repo
}

async function run(repo: string, inputs: Record<string, string>, extra: Record<string, string> = {}) {
  const temp = mkdtempSync(path.join(path.dirname(repo), 'runner-'))
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_WORKSPACE: repo,
    RUNNER_TEMP: temp,
    GITHUB_OUTPUT: path.join(temp, 'output'),
    GITHUB_STEP_SUMMARY: path.join(temp, 'summary'),
    SOURCE_DATE_EPOCH: '1700000000',
    ...extra,
  }
  writeFileSync(env.GITHUB_OUTPUT!, '')
  writeFileSync(env.GITHUB_STEP_SUMMARY!, '')
  for (const [name, value] of Object.entries(inputs)) env[inputVariable(name)] = value
  let stdout = ''
  const result = await runAction({
    env,
    cwd: repo,
    stdout: (t) => {
      stdout += t
    },
    now: new Date('2026-01-01T00:00:00Z'),
  })
  const ws = path.join(repo, '.detbuild')
  const files = existsSync(ws)
    ? readdirSync(ws, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => readFileSync(path.join(e.parentPath, e.name), 'latin1'))
    : []
  const outputs = readFileSync(env.GITHUB_OUTPUT!, 'utf8')
  const summary = readFileSync(env.GITHUB_STEP_SUMMARY!, 'utf8')
  return { result, stdout, outputs, summary, all: [stdout, outputs, summary, ...files].join('\n') }
}

const output = (text: string, name: string): string | undefined =>
  new RegExp(`^${name}<<(.+)\\n([^]*?)\\n\\1$`, 'm').exec(text)?.[2]

test('after the steps: the SBOM and the VEX are uploaded even when the policy said no (exit 1)', async () => {
  const repo = newRepo()
  const r = await run(
    repo,
    {
      steps: 'sbom,scan,policy',
      'offline-db': fixture('osv', 'records'),
      policy: 'dt-policy.json',
      'dependency-track-url': fake.url,
      'dependency-track-auto-create': 'true',
      'dependency-track-project-name': 'shop',
    },
    { DEPENDENCY_TRACK_API_KEY: KEY },
  )
  // the policy fails (GHSA-35jh-r3h4-6jhm is not excepted): the job fails with the policy's exit
  assert.equal(r.result.exitCode, 1, r.stdout)
  assert.equal(output(r.outputs, 'failed-step'), 'policy')
  // … and the SBOM, then the VEX, reached Dependency-Track
  assert.equal(fake.boms.length, 1)
  assert.equal(fake.vexes.length, 1)
  assert.deepEqual(fake.boms[0]!.bytes, readFileSync(path.join(repo, '.detbuild', 'sbom.cdx.json')))
  const vex = JSON.parse(fake.vexes[0]!.bytes.toString('utf8'))
  assert.deepEqual(
    vex.vulnerabilities.map((v: { id: string; analysis: { justification: string } }) => [
      v.id,
      v.analysis.justification,
    ]),
    [
      ['CVE-2020-28500', 'code_not_present'],
      ['GHSA-29mw-wpgm-hmr9', 'code_not_present'],
    ],
  )
  assert.equal(fake.projects[0]!.name, 'shop')
  assert.match(r.stdout, /dependency-track: uploaded \.detbuild\/sbom\.cdx\.json/)
  assert.match(r.summary, /\*\*Dependency-Track:\*\* uploaded/)
  // masked before anything is printed, and in no output, summary or file
  assert.match(r.stdout, new RegExp(`^::add-mask::${KEY}$`, 'm'))
  assert.equal(r.all.split(KEY).length - 1, 1, 'the key appears only in the ::add-mask:: command')
  assert.ok(existsSync(path.join(repo, '.detbuild', 'upload.json')))
})

test('a failed upload fails a passing run: exit 2, failed-step upload, an error annotation', async () => {
  fake.boms.length = 0
  const repo = newRepo()
  const r = await run(
    repo,
    {
      steps: 'sbom',
      'dependency-track-url': fake.url,
      'dependency-track-project-name': 'nope',
      'dependency-track-project-version': '1',
    },
    { DEPENDENCY_TRACK_API_KEY: KEY },
  )
  assert.equal(r.result.exitCode, 2, r.stdout)
  assert.equal(output(r.outputs, 'failed-step'), 'upload')
  assert.equal(output(r.outputs, 'exit-code'), '2')
  assert.match(r.stdout, /^::error title=detbuild upload \[UPLOAD_PROJECT_NOT_FOUND\]::/m)
  assert.equal(fake.boms.length, 0)
})

test('the run stopped with an error: nothing is sent, and the log says why', async () => {
  fake.requests.length = 0
  const repo = newRepo()
  rmSync(path.join(repo, 'package-lock.json'))
  const r = await run(
    repo,
    { steps: 'sbom', 'dependency-track-url': fake.url },
    { DEPENDENCY_TRACK_API_KEY: KEY },
  )
  assert.equal(r.result.exitCode, 2)
  assert.match(r.stdout, /dependency-track: not uploaded: the run stopped with exit 2/)
  assert.equal(fake.requests.length, 0)
})

test('bad Dependency-Track inputs stop the job before any step runs', async () => {
  const cases: Array<[Record<string, string>, Record<string, string>, RegExp]> = [
    [{ 'dependency-track-url': fake.url }, {}, /no DEPENDENCY_TRACK_API_KEY/],
    [
      { 'dependency-track-project-name': 'x' },
      { DEPENDENCY_TRACK_API_KEY: KEY },
      /"dependency-track-project-name" is set but "dependency-track-url" is not/,
    ],
    [
      { 'dependency-track-url': 'http://dtrack.example.com' },
      { DEPENDENCY_TRACK_API_KEY: KEY },
      /plain http/,
    ],
    [
      { 'dependency-track-url': fake.url, 'dependency-track-project': 'x' },
      { DEPENDENCY_TRACK_API_KEY: KEY },
      /must be a project UUID/,
    ],
    [
      { 'dependency-track-url': fake.url, 'dependency-track-auto-create': 'yes' },
      { DEPENDENCY_TRACK_API_KEY: KEY },
      /true or false/,
    ],
  ]
  for (const [inputs, env, message] of cases) {
    fake.requests.length = 0
    const repo = newRepo()
    const r = await run(repo, { steps: 'sbom', ...inputs }, env)
    assert.equal(r.result.exitCode, 2, r.stdout)
    assert.match(r.stdout, /ACTION_INPUT_INVALID/)
    assert.match(r.stdout, message)
    assert.equal(existsSync(path.join(repo, '.detbuild', 'sbom.cdx.json')), false)
    assert.equal(fake.requests.length, 0)
  }
})
