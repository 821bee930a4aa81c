/**
 * The Action entry (src/action/run-action.ts, in-process) with hostile data: finding texts and ids,
 * paths and input values, artifact names in build.json and artifacts/, and a credential in an input.
 * What the runner would read — stdout commands, GITHUB_OUTPUT, the job summary — must hold only what
 * detbuild meant to say.
 */
import assert from 'node:assert/strict'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import YAML from 'yaml'
import { inputVariable } from '../../src/action/inputs.ts'
import { runAction } from '../../src/action/run-action.ts'
import { loadRecords, startOsvFake } from '../helpers/osv-server.ts'
import { ROOT } from './helpers.ts'
import { parseGithubOutput, parseRunnerCommand, runnerLines } from './runner-reference.ts'

const bases: string[] = []
after(() => {
  for (const b of bases) rmSync(b, { recursive: true, force: true })
})

const OUTPUT_NAMES = Object.keys(
  (YAML.parse(readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as { outputs: object }).outputs,
).sort()

const FORGE = '\n::error file=x.js::forged%0A\r::warning::forged ##[add-mask]forged\u2028::notice::forged'

interface Run {
  exitCode: number
  stdout: string
  outputsText: string
  outputs: Record<string, string>
  summary: string
  env: string
  path: string
}

/** A simulated runner: temporary command files, INPUT_* variables, stdout captured. */
async function run(
  repo: string,
  inputs: Record<string, string>,
  extra: Record<string, string> = {},
): Promise<Run> {
  const temp = mkdtempSync(path.join(path.dirname(repo), 'runner-'))
  const files = {
    GITHUB_OUTPUT: 'output',
    GITHUB_STEP_SUMMARY: 'summary',
    GITHUB_ENV: 'env',
    GITHUB_PATH: 'path',
  }
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_WORKSPACE: repo,
    RUNNER_TEMP: temp,
    ...extra,
  }
  for (const [name, file] of Object.entries(files)) {
    env[name] = path.join(temp, file)
    writeFileSync(env[name]!, '')
  }
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
  const read = (f: string) => readFileSync(path.join(temp, f), 'utf8')
  const outputsText = read('output')
  return {
    exitCode: result.exitCode,
    stdout,
    outputsText,
    outputs: parseGithubOutput(outputsText),
    summary: read('summary'),
    env: read('env'),
    path: read('path'),
  }
}

function newRepo(sub: string, fixture = 'vulnerable-app'): string {
  const base = mkdtempSync(path.join(os.tmpdir(), 'detbuild-hostile-'))
  bases.push(base)
  const repo = path.join(base, 'repo')
  cpSync(path.join(ROOT, 'fixtures', fixture), path.join(repo, sub), { recursive: true })
  return repo
}

/** The commands the runner would run from `stdout`; fails on any detbuild did not mean to print. */
function commandsOf(stdout: string) {
  const commands = runnerLines(stdout)
    .map(parseRunnerCommand)
    .filter((c) => c !== null)
  for (const c of commands) {
    assert.ok(['group', 'endgroup', 'error', 'warning', 'notice', 'add-mask'].includes(c.name), c.name)
    assert.equal(c.legacy, false, JSON.stringify(c))
    if (c.name === 'group') assert.match(c.data, /^detbuild [a-z]+ \(\d+\/\d+\)$/)
    if (c.name === 'error' || c.name === 'warning')
      assert.match(
        c.properties.title ?? '',
        /^(detbuild |policy |more findings|critical |high |medium |low |none |unknown )/,
      )
  }
  // every line that looks like a command (after white space) is one the runner parsed above
  const looksLike = runnerLines(stdout).filter((l) => /^[\s\u0085]*::/.test(l) || l.includes('##['))
  assert.equal(looksLike.length, commands.length, looksLike.join('\n'))
  return commands
}

test("hostile finding texts, ids, paths and inputs: only detbuild's commands, exactly the outputs", async () => {
  const sub = 'we,ird:%0A dir'
  const repo = newRepo(sub)
  // OSV records whose id, summary and details try to forge commands, markdown and HTML
  const records = path.join(path.dirname(repo), 'records')
  mkdirSync(records)
  const minimist = JSON.parse(
    readFileSync(path.join(ROOT, 'fixtures', 'osv', 'records', 'GHSA-xvch-5gv4-984h.json'), 'utf8'),
  )
  const evilId = `GHSA-evil${FORGE}`
  const evilSummary = `<script>alert(1)</script> [click](https://evil.test) :white_check_mark: | x |${FORGE}`
  writeFileSync(
    path.join(records, 'evil.json'),
    JSON.stringify({ ...minimist, id: evilId, aliases: [], summary: evilSummary, details: evilSummary }),
  )
  const r = await run(repo, {
    'working-directory': sub,
    out: `ws${FORGE}`,
    steps: 'sbom, scan',
    'offline-db': records,
    'fail-on': 'high',
  })
  assert.equal(r.exitCode, 1, r.stdout)
  const commands = commandsOf(r.stdout)
  // the finding is annotated, its hostile id and text carried whole inside the one command
  const finding = commands.find((c) => c.properties.title?.includes('GHSA-evil'))
  assert.ok(finding, r.stdout)
  assert.equal(finding.name, 'error')
  assert.equal(finding.properties.title, `critical ${evilId} in minimist@1.2.5`)
  assert.ok(finding.data.startsWith(evilSummary))
  // outside git, the lockfile's path from GITHUB_WORKSPACE; the line of minimist's entry
  assert.equal(finding.properties.file, `${sub}/package-lock.json`)
  assert.equal(finding.properties.line, '21')
  const failed = commands.find(
    (c) => c.properties.title === 'detbuild scan failed [SCAN_FINDINGS_AT_FAIL_ON]',
  )
  assert.ok(failed, r.stdout)

  // GITHUB_OUTPUT reads back to exactly the declared outputs, with the values meant
  assert.deepEqual(Object.keys(r.outputs).sort(), OUTPUT_NAMES)
  assert.equal(r.outputs['exit-code'], '1')
  assert.equal(r.outputs['failed-step'], 'scan')
  assert.equal(r.outputs.workspace, `${sub}/ws${FORGE}`)
  assert.equal(r.outputs.sbom, `${sub}/ws${FORGE}/sbom.cdx.json`)
  assert.equal(JSON.parse(r.outputs.findings!).critical, 1)
  // nothing is ever written to GITHUB_ENV or GITHUB_PATH
  assert.equal(r.env, '')
  assert.equal(r.path, '')

  // the job summary shows the texts as text: no HTML, link, emoji, forged line or broken table
  assert.ok(!r.summary.includes('<script>'))
  assert.ok(r.summary.includes('&lt;script&gt;'))
  assert.ok(!r.summary.includes('[click]('))
  assert.ok(!r.summary.includes(':white_check_mark:'))
  assert.ok(!/^[\s]*::/m.test(r.summary))
  const findingsTable = r.summary.split('\n').filter((l) => l.includes('GHSA-evil'))
  assert.equal(findingsTable.length, 1, r.summary)
  // the row keeps its six cells: every | inside a value is escaped
  assert.equal(findingsTable[0]!.split(/(?<!\\)\|/).length - 2, 6, findingsTable[0])
})

/** A workspace holding a build.json (written by an earlier call — or by anyone) and its artifacts. */
function workspaceWith(repo: string, names: string[], files: string[] = names): void {
  const ws = path.join(repo, '.detbuild')
  mkdirSync(path.join(ws, 'artifacts'), { recursive: true })
  for (const f of files) writeFileSync(path.join(ws, 'artifacts', f), 'x')
  const outputs = names.map((n) => ({
    path: `artifacts/${n}`,
    sha256: 'a'.repeat(64),
    sha512: 'b'.repeat(128),
    integrity: `sha512-${'A'.repeat(86)}==`,
    size: 1,
  }))
  // a build.json its schema accepts: the names are what these tests are about
  const reproducibility = { checked: false, reproducible: null, report: null }
  writeFileSync(
    path.join(ws, 'build.json'),
    JSON.stringify({ schemaVersion: 1, sourceDateEpoch: 0, reproducibility, outputs }),
  )
}

test('artifact names with %, comma and colon: digests and artifacts outputs read back exactly', async () => {
  const repo = newRepo('.')
  const names = ['a%0A,b:c.tgz', 'z.tgz']
  workspaceWith(repo, names)
  const r = await run(repo, { command: 'sbom' })
  assert.equal(r.exitCode, 0, r.stdout)
  commandsOf(r.stdout)
  assert.equal(r.outputs.digests, names.map((n) => `${'a'.repeat(64)}  ${n}`).join('\n'))
  assert.deepEqual(
    JSON.parse(r.outputs.artifacts!).map((a: { path: string }) => a.path),
    names.map((n) => `.detbuild/artifacts/${n}`),
  )
  assert.deepEqual(
    readdirSync(path.join(repo, '.detbuild', 'release-assets'))
      .filter((n) => n.endsWith('.tgz'))
      .sort(),
    names,
  )
})

test('a control character in an artifact name: exit 2 ACTION_ARTIFACT_NAME_INVALID naming the file', async () => {
  const BAD = [
    'x\n::error::forged.tgz',
    'x\r.tgz',
    'x\u2028.tgz',
    'x\u2029.tgz',
    'x\u001b[1m.tgz',
    'x\u202e.tgz',
  ]
  for (const bad of BAD) {
    // in build.json (the quick policy step fails too, without an SBOM: the name is checked all the same)
    const repo = newRepo('.', 'small-app')
    workspaceWith(repo, [bad], [])
    const r = await run(repo, { command: 'policy' })
    assert.equal(r.exitCode, 2, r.stdout)
    const error = commandsOf(r.stdout).find(
      (c) => c.properties.title === 'detbuild [ACTION_ARTIFACT_NAME_INVALID]',
    )
    assert.ok(error, r.stdout)
    assert.match(error.data, /^"\.detbuild\/build\.json" \$\.outputs\[0\]\.path: artifact name "x\\u?/)
    // the error path: only exit-code is set, no digests
    assert.deepEqual(r.outputs, { 'exit-code': '2' })
    assert.ok(r.summary.includes('`ACTION_ARTIFACT_NAME_INVALID`'), r.summary)
  }
  // among the files release assets would publish (after a successful step)
  for (const bad of BAD.slice(0, 2)) {
    const repo = newRepo('.', 'small-app')
    workspaceWith(repo, ['ok.tgz'], ['ok.tgz', bad])
    const r = await run(repo, { command: 'sbom' })
    assert.equal(r.exitCode, 2, r.stdout)
    const error = commandsOf(r.stdout).find(
      (c) => c.properties.title === 'detbuild [ACTION_ARTIFACT_NAME_INVALID]',
    )
    assert.match(error?.data ?? '', /^"\.detbuild\/artifacts\/x\\/)
    assert.deepEqual(r.outputs, { 'exit-code': '2' })
  }
  // build.json entries that are not artifacts/<name> with a digest are refused too
  const repo = newRepo('.', 'small-app')
  mkdirSync(path.join(repo, '.detbuild'))
  writeFileSync(
    path.join(repo, '.detbuild', 'build.json'),
    JSON.stringify({ outputs: [{ path: '../../etc/passwd', sha256: 'a'.repeat(64), size: 1 }] }),
  )
  const r = await run(repo, { command: 'policy' })
  assert.equal(r.exitCode, 2)
  assert.ok(
    commandsOf(r.stdout).some((c) => c.properties.title === 'detbuild [ACTION_BUILD_MANIFEST_INVALID]'),
  )
})

test('a credential in osv-url: masked first, and in no line, output, summary or workspace file', async () => {
  const fake = await startOsvFake(loadRecords(path.join(ROOT, 'fixtures', 'osv', 'records')))
  try {
    const token = 'osv-T0ken-s3cret'
    const repo = newRepo('.')
    const r = await run(
      repo,
      { steps: 'sbom,scan', 'osv-url': fake.url.replace('http://', `http://scanner:${token}@`) },
      { HTTPS_PROXY: '', RUNNER_DEBUG: '1' },
    )
    // the credentials reach the server as Basic auth, so the scan works
    assert.equal(r.exitCode, 0, r.stdout)
    const lines = runnerLines(r.stdout)
    assert.equal(parseRunnerCommand(lines[0]!)?.name, 'add-mask')
    const masks = lines.filter((l) => l.startsWith('::add-mask::'))
    assert.deepEqual(
      masks.map((l) => parseRunnerCommand(l)!.data),
      ['osv-T0ken-s3cret', 'scanner'],
    )
    // the masks are the first lines; nothing after them holds the token
    assert.deepEqual(lines.slice(0, masks.length), masks)
    const rest = lines.slice(masks.length).join('\n')
    assert.ok(!rest.includes(token))
    assert.ok(!r.outputsText.includes(token))
    assert.ok(!r.summary.includes(token))
    for (const f of readdirSync(path.join(repo, '.detbuild')))
      assert.ok(!readFileSync(path.join(repo, '.detbuild', f), 'utf8').includes(token), f)
  } finally {
    await fake.close()
  }
})
