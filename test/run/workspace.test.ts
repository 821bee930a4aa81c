/**
 * The workspace fails closed: a skipped step keeps the evidence it did not replace, a step that runs
 * replaces its own outputs, a killed run's temporary files are gone before the next command reads the
 * workspace, and `--format both` lands as a pair or not at all.
 */
import assert from 'node:assert/strict'
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { rename } from 'node:fs/promises'
import path from 'node:path'
import { after, test } from 'node:test'
import { generateKeyPairPem } from '../../src/sign/keys.ts'
import {
  openWorkspace,
  removeStaleTempFiles,
  stageFile,
  tempFileOwner,
  tempNameFor,
  writeFileAtomic,
  writeFilesAtomic,
} from '../../src/util/fs.ts'
import { makeWorkspace } from '../helpers/sigstore-mock-server.ts'
import { copyFixture, removeAll, runCli, tempDir } from './helpers.ts'

const dirs: string[] = []
after(() => removeAll(dirs))

/** Above Linux's largest pid_max (2^22): no process can have it, so its files are a dead run's. */
const DEAD_PID = 4194305

interface Report {
  exitCode: number
  steps: Array<{ name: string; status: string; detail: string }>
}
const statuses = (r: Report) => Object.fromEntries(r.steps.map((s) => [s.name, s.status]))

function listTree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map((f) => f.split(path.sep).join('/')).sort()
}

test('temporary names: `.<name>.detbuild-<pid>-<n>.tmp`, unique per write, recognised by owner pid', () => {
  const a = path.basename(tempNameFor('/w/sbom.cdx.json'))
  const b = path.basename(tempNameFor('/w/sbom.cdx.json'))
  assert.match(a, new RegExp(`^\\.sbom\\.cdx\\.json\\.detbuild-${process.pid}-\\d+\\.tmp$`))
  assert.notEqual(a, b)
  assert.equal(tempFileOwner(a), process.pid)
  assert.equal(tempFileOwner('.x.detbuild-12-3.tmp'), 12)
  // somebody else's temporary files are not ours to remove
  for (const other of ['x.tmp', '.x.tmp', '.x.12.ab12cd34.tmp', 'x.detbuild-12-3.tmp', '.x.detbuild-12.tmp'])
    assert.equal(tempFileOwner(other), undefined, other)
})

test('removeStaleTempFiles: a dead process’s files go (also in subfolders), a live one’s and others stay', async () => {
  const dir = tempDir()
  dirs.push(dir)
  mkdirSync(path.join(dir, 'artifacts'))
  const dead = [
    '.sbom.cdx.json.detbuild-4194305-1.tmp',
    'artifacts/.app.tgz.sigstore.json.detbuild-4194305-7.tmp',
  ]
  const kept = [
    `.vulns.json.detbuild-${process.pid}-3.tmp`,
    '.x.detbuild-0-1.tmp',
    'notes.tmp',
    '.policy.json.1234.abcd.tmp',
    'sbom.cdx.json',
  ]
  for (const f of [...dead, ...kept]) writeFileSync(path.join(dir, f), 'x')
  const removed = (await removeStaleTempFiles(dir)).map((f) =>
    path.relative(dir, f).split(path.sep).join('/'),
  )
  assert.deepEqual(removed.sort(), [...dead].sort())
  assert.deepEqual(listTree(dir), ['artifacts', ...kept].sort())
})

test('writeFilesAtomic: a failure between the renames rolls the first back (previous bytes, or absent)', async () => {
  const dir = tempDir()
  dirs.push(dir)
  const json = path.join(dir, 'sbom.cdx.json')
  const xml = path.join(dir, 'sbom.cdx.xml')
  const failSecond = () => {
    let n = 0
    return {
      async rename(from: string, to: string) {
        n += 1
        if (n === 2) throw Object.assign(new Error('injected: disk full'), { code: 'ENOSPC' })
        await rename(from, to)
      },
    }
  }
  // nothing there before: neither file afterwards
  await assert.rejects(
    writeFilesAtomic(
      [
        { file: json, data: 'new json' },
        { file: xml, data: 'new xml' },
      ],
      failSecond(),
    ),
    (e: { code: string; exitCode: number; file: string }) =>
      e.code === 'IO_NO_SPACE' && e.exitCode === 3 && e.file === xml,
  )
  assert.deepEqual(readdirSync(dir), [])
  // a previous pair: both keep their previous bytes
  await writeFilesAtomic([
    { file: json, data: 'old json' },
    { file: xml, data: 'old xml' },
  ])
  await assert.rejects(
    writeFilesAtomic(
      [
        { file: json, data: 'new json' },
        { file: xml, data: 'new xml' },
      ],
      failSecond(),
    ),
    (e: { code: string; exitCode: number; file: string }) =>
      e.code === 'IO_NO_SPACE' && e.exitCode === 3 && e.file === xml,
  )
  assert.equal(readFileSync(json, 'utf8'), 'old json')
  assert.equal(readFileSync(xml, 'utf8'), 'old xml')
  assert.deepEqual(readdirSync(dir).sort(), ['sbom.cdx.json', 'sbom.cdx.xml'])
  // and without a failure both are replaced, no temporary or backup file left
  await writeFilesAtomic([
    { file: json, data: 'new json' },
    { file: xml, data: 'new xml' },
  ])
  assert.equal(readFileSync(json, 'utf8'), 'new json')
  assert.equal(readFileSync(xml, 'utf8'), 'new xml')
  assert.deepEqual(readdirSync(dir).sort(), ['sbom.cdx.json', 'sbom.cdx.xml'])
  await writeFileAtomic(json, 'single')
  assert.deepEqual(readdirSync(dir).sort(), ['sbom.cdx.json', 'sbom.cdx.xml'])
})

test('stageFile: bytes land at the offsets given, beside the target under a temporary name; a failure leaves nothing', async () => {
  const dir = tempDir()
  dirs.push(dir)
  const file = path.join(dir, 'sub', 'out.json')
  // the tail first, then the head at offset 0 (as the SBOM writer does once its serial is known)
  const { tmp, result } = await stageFile(file, (write) => {
    write(Buffer.from('world\n'), 6)
    write(Buffer.from('hello '), 0)
    return 42
  })
  assert.equal(result, 42)
  assert.equal(path.dirname(tmp), path.dirname(file))
  assert.ok(tempFileOwner(path.basename(tmp)) === process.pid, tmp)
  assert.equal(readFileSync(tmp, 'utf8'), 'hello world\n')
  assert.equal(existsSync(file), false, 'not in place before the rename')
  // renamed with another file as one set; a failed rename rolls back and removes the staged file too
  const other = path.join(dir, 'sub', 'other.json')
  await assert.rejects(
    writeFilesAtomic(
      [
        { file, staged: tmp },
        { file: other, data: 'x' },
      ],
      {
        async rename(from: string, to: string) {
          if (to === other) throw Object.assign(new Error('injected: disk full'), { code: 'ENOSPC' })
          await rename(from, to)
        },
      },
    ),
    (e: { code: string }) => e.code === 'IO_NO_SPACE',
  )
  assert.deepEqual(readdirSync(path.join(dir, 'sub')), [], 'rolled back, no temporary file left')
  const again = await stageFile(file, (write) => write(Buffer.from('{}\n'), 0))
  await writeFilesAtomic([{ file, staged: again.tmp }])
  assert.equal(readFileSync(file, 'utf8'), '{}\n')
  assert.deepEqual(readdirSync(path.join(dir, 'sub')), ['out.json'])
  // a fill that throws: its error, and no temporary file
  await assert.rejects(
    stageFile(file, () => {
      throw new Error('fill failed')
    }),
    /fill failed/,
  )
  assert.deepEqual(readdirSync(path.join(dir, 'sub')), ['out.json'])
  // something already at the temporary name (a planted link): refused, neither it nor its target touched
  const probe = tempNameFor(file)
  const next = probe.replace(/-(\d+)\.tmp$/, (_, n: string) => `-${Number(n) + 1}.tmp`)
  const victim = path.join(dir, 'victim')
  writeFileSync(victim, 'keep')
  symlinkSync(victim, next)
  await assert.rejects(
    stageFile(file, (write) => write(Buffer.from('x'), 0)),
    (e: { code: string; exitCode: number }) => e.code === 'OUTPUT_UNWRITABLE' && e.exitCode === 2,
  )
  assert.equal(readFileSync(victim, 'utf8'), 'keep')
  assert.equal(lstatSync(next).isSymbolicLink(), true, 'a file this call did not make is left alone')
  rmSync(next)
  // a folder that cannot be made: one line naming it
  writeFileSync(path.join(dir, 'blocker'), '')
  await assert.rejects(
    stageFile(path.join(dir, 'blocker', 'x.json'), () => undefined),
    (e: { code: string; exitCode: number }) => e.code === 'OUTPUT_UNWRITABLE' && e.exitCode === 2,
  )
})

test('sbom: the JSON streamed to a temporary file lands only with the SPDX beside it; a failure keeps the earlier bytes', async () => {
  const project = copyFixture('small-app')
  dirs.push(path.dirname(project))
  const out = path.join(project, '.detbuild')
  const args = ['--json', 'sbom', '--format', 'cyclonedx-json,spdx-json']
  const first = await runCli(args, project)
  assert.equal(first.code, 0, first.stderr)
  const before = readFileSync(path.join(out, 'sbom.cdx.json'))
  const pkg = JSON.parse(readFileSync(path.join(project, 'package.json'), 'utf8'))
  pkg.version = '9.9.9'
  writeFileSync(path.join(project, 'package.json'), JSON.stringify(pkg, null, 2))
  const spdx = path.join(out, 'sbom.spdx.json')
  await import('node:fs/promises').then((fs) => fs.rm(spdx))
  mkdirSync(path.join(spdx, 'blocker'), { recursive: true })
  const second = await runCli(args, project)
  assert.equal(second.code, 2, second.stdout)
  assert.deepEqual(readFileSync(path.join(out, 'sbom.cdx.json')), before, 'the earlier JSON is kept')
  assert.equal(
    listTree(out).filter((f) => tempFileOwner(path.posix.basename(f)) !== undefined).length,
    0,
    'no temporary file left',
  )
  await import('node:fs/promises').then((fs) => fs.rm(spdx, { recursive: true }))
  const third = await runCli(args, project)
  assert.equal(third.code, 0, third.stderr)
  assert.match(readFileSync(path.join(out, 'sbom.cdx.json'), 'utf8'), /9\.9\.9/)
  assert.equal(listTree(out).filter((f) => tempFileOwner(path.posix.basename(f)) !== undefined).length, 0)
})

test('sbom --format both: when the XML cannot land, the JSON keeps its previous bytes', async () => {
  const project = copyFixture('small-app')
  dirs.push(path.dirname(project))
  const out = path.join(project, '.detbuild')
  const first = await runCli(['--json', 'sbom', '--format', 'both', '--no-validate'], project)
  assert.equal(first.code, 0, first.stderr)
  const before = readFileSync(path.join(out, 'sbom.cdx.json'))
  // a different SBOM next time (another component), but sbom.cdx.xml is a folder: its rename fails
  const lock = JSON.parse(readFileSync(path.join(project, 'package-lock.json'), 'utf8'))
  const pkg = JSON.parse(readFileSync(path.join(project, 'package.json'), 'utf8'))
  pkg.version = '9.9.9'
  lock.version = '9.9.9'
  if (lock.packages?.['']) lock.packages[''].version = '9.9.9'
  writeFileSync(path.join(project, 'package.json'), JSON.stringify(pkg, null, 2))
  writeFileSync(path.join(project, 'package-lock.json'), JSON.stringify(lock, null, 2))
  const xml = path.join(out, 'sbom.cdx.xml')
  const previousXml = readFileSync(xml)
  await import('node:fs/promises').then((fs) => fs.rm(xml))
  mkdirSync(path.join(xml, 'blocker'), { recursive: true })
  const second = await runCli(['--json', 'sbom', '--format', 'both', '--no-validate'], project)
  assert.equal(second.code, 2, second.stdout)
  assert.equal((JSON.parse(second.stdout) as { error: { code: string } }).error.code, 'OUTPUT_UNWRITABLE')
  assert.deepEqual(
    readFileSync(path.join(out, 'sbom.cdx.json')),
    before,
    'the JSON of the earlier run is kept',
  )
  assert.equal(
    listTree(out).filter((f) => tempFileOwner(path.posix.basename(f)) !== undefined).length,
    0,
    'no temporary file left',
  )
  // unblocked: both land together, the new version in each
  await import('node:fs/promises').then((fs) => fs.rm(xml, { recursive: true }))
  writeFileSync(xml, previousXml)
  const third = await runCli(['--json', 'sbom', '--format', 'both', '--no-validate'], project)
  assert.equal(third.code, 0, third.stderr)
  assert.match(readFileSync(path.join(out, 'sbom.cdx.json'), 'utf8'), /9\.9\.9/)
  assert.match(readFileSync(xml, 'utf8'), /9\.9\.9/)
})

test('a writing command removes a killed run’s temporary files at workspace open; a reading one does not', async () => {
  const project = copyFixture('small-app')
  dirs.push(path.dirname(project))
  const out = path.join(project, '.detbuild')
  mkdirSync(path.join(out, 'artifacts'), { recursive: true })
  const leftovers = [
    `.detbuild/.sbom.cdx.json.detbuild-${DEAD_PID}-1.tmp`,
    `.detbuild/artifacts/.app-1.0.0.tgz.detbuild-${DEAD_PID}-2.tmp`,
    `.detbuild.lock.detbuild-${DEAD_PID}-3.tmp`,
  ].map((f) => path.join(project, f))
  for (const f of leftovers) writeFileSync(f, 'half-written')
  // verify only reads: it leaves the workspace as it is
  const read = await runCli(['--json', 'verify', '--evidence', '.detbuild/evidence.tar.gz'], project)
  assert.equal(read.code, 2)
  for (const f of leftovers) assert.equal(existsSync(f), true, f)
  const run = await runCli(['--json', 'sbom', '--no-validate'], project)
  assert.equal(run.code, 0, run.stderr)
  for (const f of leftovers) assert.equal(existsSync(f), false, f)
  // openWorkspace is also what the Action calls; a second call finds nothing
  assert.deepEqual(await openWorkspace(project, out), [])
})

test('run: skipped signing keeps earlier signatures and evidence, says so once on stderr even with -q', async () => {
  const project = copyFixture('small-app')
  dirs.push(path.dirname(project))
  const out = path.join(project, '.detbuild')
  mkdirSync(path.join(out, 'artifacts'), { recursive: true })
  // a previous run's evidence; signatures.json is not even valid JSON: the policy of a run that
  // signs afterwards must not read it, and nobody may delete it
  const earlier: Record<string, string> = {
    'signatures.json': '{ not json',
    'provenance.sigstore.json': '{"earlier":true}\n',
    'artifacts/app-1.0.0.tgz.sigstore.json': '{"earlier":true}\n',
    'evidence.tar.gz': 'earlier evidence bytes',
  }
  for (const [f, data] of Object.entries(earlier)) writeFileSync(path.join(out, f), data)
  const run = await runCli(
    ['-q', 'run', '--steps', 'sbom,policy,sign,bundle,verify', '--policy', 'default'],
    project,
  )
  assert.equal(run.code, 0, run.stderr)
  assert.equal(run.stdout, '', '-q prints no summary')
  const lines = run.stderr.split('\n').filter((l) => l !== '')
  const warnings = lines.filter((l) => /no signing identity/.test(l))
  assert.equal(warnings.length, 1, run.stderr)
  assert.match(warnings[0]!, /^warning: no signing identity: sign, bundle, verify skipped/)
  for (const [f, data] of Object.entries(earlier))
    assert.equal(readFileSync(path.join(out, f), 'utf8'), data, `${f} is kept`)

  const json = await runCli(['--json', 'run', '--steps', 'sbom,policy,sign,bundle,verify'], project)
  assert.equal(json.code, 0, json.stderr)
  const report = JSON.parse(json.stdout) as Report
  assert.deepEqual(statuses(report), {
    sbom: 'ok',
    policy: 'ok',
    sign: 'skipped',
    bundle: 'skipped',
    verify: 'skipped',
  })
  assert.equal(json.stderr.split('\n').filter((l) => /no signing identity/.test(l)).length, 1)
  const policy = JSON.parse(readFileSync(path.join(out, 'policy.json'), 'utf8')) as {
    inputs: { signatures: string | null }
  }
  assert.equal(policy.inputs.signatures, null, 'the policy did not judge the earlier signatures')
  // a standalone policy still reads the workspace's signatures.json (and rejects this one)
  const alone = await runCli(['--json', 'policy'], project)
  assert.equal(alone.code, 2)
  assert.equal((JSON.parse(alone.stdout) as { error: { code: string } }).error.code, 'POLICY_INPUT_INVALID')
})

test('run: a step that stops the run leaves the later steps’ earlier outputs alone', async () => {
  const project = copyFixture('small-app')
  dirs.push(path.dirname(project))
  const out = path.join(project, '.detbuild')
  mkdirSync(out, { recursive: true })
  writeFileSync(path.join(out, 'signatures.json'), '{"schemaVersion":1,"bundles":[]}\n')
  writeFileSync(path.join(out, 'evidence.tar.gz'), 'earlier evidence bytes')
  // a policy file that does not exist: the policy step fails with exit 2, sign and bundle do not run
  const run = await runCli(
    ['--json', 'run', '--steps', 'sbom,policy,sign,bundle', '--policy', 'missing.yaml', '--sign', 'none'],
    project,
  )
  assert.equal(run.code, 2, run.stdout)
  assert.equal(readFileSync(path.join(out, 'evidence.tar.gz'), 'utf8'), 'earlier evidence bytes')
  assert.equal(readFileSync(path.join(out, 'signatures.json'), 'utf8'), '{"schemaVersion":1,"bundles":[]}\n')
})

test('run: a sign step that runs replaces its outputs, bundles of a gone artifact included (sign alone too)', async () => {
  const ws = await makeWorkspace()
  dirs.push(ws.dir)
  const pair = generateKeyPairPem('ed25519', undefined)
  writeFileSync(path.join(ws.dir, 'k.key'), pair.privateKeyPem)
  const gone = path.join(ws.out, 'artifacts', 'app-0.9.0.tgz.sigstore.json')
  writeFileSync(gone, '{"earlier":true}\n')
  writeFileSync(path.join(ws.out, 'signatures.json'), '{"earlier":true}\n')
  const run = await runCli(
    ['--json', 'run', '--steps', 'sign', '--sign', 'key', '--key', 'k.key', '--no-tlog'],
    ws.dir,
  )
  assert.equal(run.code, 0, run.stdout)
  assert.equal(existsSync(gone), false, 'the bundle of an artifact that is gone is not kept')
  const signatures = JSON.parse(readFileSync(path.join(ws.out, 'signatures.json'), 'utf8')) as {
    bundles: Array<{ file: string }>
  }
  assert.deepEqual(
    signatures.bundles.map((b) => b.file),
    ['artifacts/app-1.0.0.tgz.sigstore.json', 'provenance.sigstore.json'],
  )
  assert.deepEqual(listTree(ws.out), [
    'artifacts',
    'artifacts/app-1.0.0.tgz',
    'artifacts/app-1.0.0.tgz.sigstore.json',
    'provenance.intoto.json',
    'provenance.sigstore.json',
    'signatures.json',
  ])
})

test('sign alone replaces its outputs too: a bundle signatures.json no longer lists is removed', async () => {
  const ws = await makeWorkspace()
  dirs.push(ws.dir)
  const pair = generateKeyPairPem('ed25519', undefined)
  writeFileSync(path.join(ws.dir, 'k.key'), pair.privateKeyPem)
  const gone = path.join(ws.out, 'artifacts', 'app-0.9.0.tgz.sigstore.json')
  writeFileSync(gone, '{"earlier":true}\n')
  const sign = await runCli(['--json', 'sign', '--key', 'k.key', '--no-tlog'], ws.dir)
  assert.equal(sign.code, 0, sign.stdout)
  assert.equal(existsSync(gone), false)
  // without --artifacts only the provenance is signed: the artifact's own bundle is not this signing's
  assert.equal(existsSync(path.join(ws.out, 'artifacts', 'app-1.0.0.tgz.sigstore.json')), false)
  assert.equal(existsSync(path.join(ws.out, 'provenance.sigstore.json')), true)
})

test('the Action: a skipped bundle or sign step neither points to nor publishes an earlier run’s files', async () => {
  const { runAction } = await import('../../src/action/run-action.ts')
  const project = copyFixture('small-app')
  dirs.push(path.dirname(project))
  const out = path.join(project, '.detbuild')
  mkdirSync(path.join(out, 'artifacts'), { recursive: true })
  // an earlier run's outputs: a build, its signatures and evidence
  writeFileSync(path.join(out, 'artifacts', 'app-1.0.0.tgz'), 'tarball bytes\n')
  writeFileSync(
    path.join(out, 'build.json'),
    `${JSON.stringify({
      schemaVersion: 1,
      sourceDateEpoch: 0,
      reproducibility: { checked: false, reproducible: null, report: null },
      outputs: [
        {
          path: 'artifacts/app-1.0.0.tgz',
          size: 14,
          sha256: 'ab'.repeat(32),
          sha512: 'cd'.repeat(64),
          integrity: `sha512-${'A'.repeat(86)}==`,
        },
      ],
    })}\n`,
  )
  writeFileSync(path.join(out, 'provenance.sigstore.json'), '{"earlier":true}\n')
  writeFileSync(path.join(out, 'evidence.tar.gz'), 'earlier evidence bytes')
  const outputFile = path.join(path.dirname(project), 'github-output')
  writeFileSync(outputFile, '')
  let stdout = ''
  const result = await runAction({
    env: {
      PATH: process.env.PATH,
      HOME: project,
      GITHUB_OUTPUT: outputFile,
      INPUT_STEPS: 'sbom,sign,bundle,verify',
      'INPUT_RELEASE-ASSETS': 'true',
    },
    cwd: project,
    stdout: (t) => {
      stdout += t
    },
    now: new Date('2026-01-02T03:04:05Z'),
  })
  assert.equal(result.exitCode, 0, stdout)
  assert.match(stdout, /^warning: no signing identity: sign, bundle, verify skipped/m)
  assert.equal(result.outputs.evidence, '', 'the earlier evidence is not this run’s')
  const assets = readdirSync(path.join(out, 'release-assets')).sort()
  assert.deepEqual(assets, ['app-1.0.0.tgz', 'sbom.cdx.json'])
  // and nothing was deleted
  assert.equal(readFileSync(path.join(out, 'evidence.tar.gz'), 'utf8'), 'earlier evidence bytes')
  assert.equal(readFileSync(path.join(out, 'provenance.sigstore.json'), 'utf8'), '{"earlier":true}\n')
})
