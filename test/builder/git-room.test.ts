/**
 * `git: true`: the build gets a minimal repository in the staged source — the HEAD commit (no history,
 * no remotes) and the tags at HEAD — that answers `git describe --tags` and `git rev-parse HEAD` as the
 * checkout does, holds nothing of the host (no paths, no reflogs, no FETCH_HEAD, files dated
 * SOURCE_DATE_EPOCH), is the same in both runs of --check, and works whoever owns the files. A project
 * that is not a git repository is refused.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { makeGitRoom } from '../../src/builder/git-room.ts'
import { isDetbuildError } from '../../src/errors.ts'
import { runCli } from './helpers.ts'

const dirs: string[] = []
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const T1 = 1700000000
const T2 = 1700000100

const BUILD = [
  'set -e',
  'mkdir -p out',
  // what a versioning build script asks
  'git describe --tags > out/out.txt',
  'git rev-parse HEAD >> out/out.txt',
  // the repository itself, before any git command below may touch it
  'find .git -printf "%P %y %T@\\n" | LC_ALL=C sort > out/git-files.txt',
  'find .git -type f -exec sha256sum {} + | LC_ALL=C sort -k2 > out/git-sums.txt',
  // anything of the host: this staging folder, the project folder, the remote
  `(grep -rla -e "$PWD" -e "$PROJECT_DIR" -e example.test .git || true) > out/host.txt`,
  '{ git remote; git log --format=%H; git tag; git status --porcelain --untracked-files=no; } > out/info.txt',
  'git rev-parse --is-shallow-repository >> out/info.txt',
  '',
].join('\n')

function git(cwd: string, args: string[], time = T1): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', ...args], {
    cwd,
    env: {
      ...process.env,
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_DATE: `@${time} +0000`,
      GIT_COMMITTER_DATE: `@${time} +0000`,
    },
  }).toString()
}

/** A repository with two commits: v0.1.0 on the first, v1.0.0 (annotated) and `nightly` on HEAD. */
function makeRepo(config: Record<string, unknown>, options: { git?: boolean } = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detbuild-gitroom-'))
  dirs.push(dir)
  const p = path.join(dir, 'project')
  mkdirSync(p)
  writeFileSync(path.join(p, 'build.sh'), BUILD.replace('$PROJECT_DIR', p))
  writeFileSync(
    path.join(p, 'detbuild.config.json'),
    JSON.stringify({
      toolchain: { node: 'system' },
      install: [],
      build: ['sh build.sh'],
      outputs: ['out/*.txt'],
      ...config,
    }),
  )
  if (options.git === false) return p
  git(p, ['init', '-q'])
  git(p, ['add', '-A'])
  git(p, ['commit', '-qm', 'one'])
  git(p, ['tag', 'v0.1.0'])
  writeFileSync(path.join(p, 'VERSION'), '1.0.0\n')
  git(p, ['add', '-A'], T2)
  git(p, ['commit', '-qm', 'two'], T2)
  git(p, ['tag', '-a', 'v1.0.0', '-m', 'release'], T2)
  git(p, ['tag', 'nightly'], T2)
  git(p, ['remote', 'add', 'origin', 'https://user:secret@example.test/app.git'])
  return p
}

const artifact = (p: string, name: string) =>
  readFileSync(path.join(p, '.detbuild', 'artifacts', name), 'utf8')

test('git: true — describe and rev-parse answer as the checkout; one commit, tags at HEAD only, no remote', async () => {
  const p = makeRepo({ git: true })
  const head = git(p, ['rev-parse', 'HEAD']).trim()
  const r = await runCli(['build', '-C', p])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(artifact(p, 'out.txt'), `v1.0.0\n${head}\n`)
  const info = artifact(p, 'info.txt').split('\n')
  // no remote, one commit, the two tags at HEAD (not v0.1.0), a clean status, shallow
  assert.deepEqual(info, [head, 'nightly', 'v1.0.0', 'true', ''])
  assert.equal(artifact(p, 'host.txt'), '', 'a .git file holds a host path or the remote')
  const files = artifact(p, 'git-files.txt')
  for (const gone of ['FETCH_HEAD', 'ORIG_HEAD', 'logs', 'hooks', 'description'])
    assert.doesNotMatch(files, new RegExp(`^${gone}( |/)`, 'm'), gone)
  // every file and folder dated SOURCE_DATE_EPOCH (the HEAD commit's time)
  const times = files
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split(' ')[2])
  assert.ok(times.length > 5)
  for (const t of times) assert.equal(Math.floor(Number(t)), T2, files)
  // the staged tree itself is unchanged: git: true adds .git, nothing else
  const manifest = JSON.parse(readFileSync(path.join(p, '.detbuild', 'build.json'), 'utf8'))
  assert.equal(manifest.source.commit, head)
})

test('git: true is reproducible: --check builds the room twice, byte for byte', async () => {
  const p = makeRepo({ git: true })
  const r = await runCli(['build', '--check', '-C', p])
  assert.equal(r.code, 0, r.stderr + r.stdout)
  assert.match(artifact(p, 'git-sums.txt'), /\.git\/index$/m)
})

test('git: true works when the files belong to another user (the sandbox may map another uid)', async () => {
  const p = makeRepo({ git: true, network: 'allow' })
  const root = process.getuid?.() === 0
  // as root, hand the staged repository to another user first, as a room with another uid would see it
  const script = readFileSync(path.join(p, 'build.sh'), 'utf8')
  writeFileSync(
    path.join(p, 'build.sh'),
    script.replace(
      'mkdir -p out\n',
      // a room that maps only its own uid cannot chown: then the owner stays, and git must still work
      `mkdir -p out\n${root ? '(chown -R 4242:4242 .git . 2>/dev/null || true)\nstat -c %u .git > out/owner.txt\n' : ''}`,
    ),
  )
  git(p, ['commit', '-qam', 'chown'], T2)
  git(p, ['tag', '-f', 'v1.0.0'], T2)
  const r = await runCli(['build', '-C', p])
  assert.equal(r.code, 0, r.stderr + readFileSync(path.join(p, '.detbuild', 'build.log'), 'utf8'))
  assert.match(artifact(p, 'out.txt'), /^v1\.0\.0\n[0-9a-f]{40}\n$/)
  // as root without a user namespace (network: allow) the files really changed owner
  const manifest = JSON.parse(readFileSync(path.join(p, '.detbuild', 'build.json'), 'utf8'))
  if (root && manifest.isolation.method === null) assert.equal(artifact(p, 'owner.txt'), '4242\n')
})

test('without git: true the build sees no repository', async () => {
  const p = makeRepo({})
  writeFileSync(
    path.join(p, 'build.sh'),
    'mkdir -p out\n(test -e .git && echo yes || echo no) > out/out.txt\n',
  )
  git(p, ['commit', '-qam', 'plain'], T2)
  const r = await runCli(['build', '-C', p])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(artifact(p, 'out.txt'), 'no\n')
})

test('git: true outside a git repository, or in one without a commit: exit 2 BUILD_GIT_NOT_A_REPOSITORY', async () => {
  const files = makeRepo({ git: true }, { git: false })
  const r = await runCli(['--json', 'build', '-C', files])
  assert.equal(r.code, 2, r.stderr)
  assert.equal(JSON.parse(r.stdout).error.code, 'BUILD_GIT_NOT_A_REPOSITORY')
  const empty = makeRepo({ git: true }, { git: false })
  git(empty, ['init', '-q'])
  git(empty, ['add', '-A'])
  const e = await runCli(['--json', 'build', '-C', empty])
  assert.equal(e.code, 2, e.stderr)
  assert.equal(JSON.parse(e.stdout).error.code, 'BUILD_GIT_NOT_A_REPOSITORY')
})

test('the git key is validated and recorded', async () => {
  const p = makeRepo({ git: 'yes' }, { git: false })
  const r = await runCli(['--json', 'build', '-C', p])
  assert.equal(r.code, 2)
  const err = JSON.parse(r.stdout).error
  assert.equal(err.code, 'CONFIG_INVALID')
  assert.equal(err.details.key, 'git')
  const ok = makeRepo({ git: true })
  assert.equal((await runCli(['build', '-C', ok])).code, 0)
  const provenance = JSON.parse(readFileSync(path.join(ok, '.detbuild', 'provenance.intoto.json'), 'utf8'))
  assert.equal(provenance.predicate.buildDefinition.externalParameters.config.git, true)
})

test('git that cannot make the room (here: a commit the project does not have) is exit 2 BUILD_GIT_ROOM_FAILED', async () => {
  const p = makeRepo({ git: true })
  const stage = path.join(path.dirname(p), 'stage')
  mkdirSync(stage)
  await assert.rejects(makeGitRoom(p, stage, 'f'.repeat(40), T1, process.env), (e: unknown) => {
    assert.ok(isDetbuildError(e))
    assert.equal(e.code, 'BUILD_GIT_ROOM_FAILED')
    assert.equal(e.exitCode, 2)
    assert.match(e.message, /\(git fetch\): /)
    return true
  })
})

test('git: true for a project in a subfolder: the index lists the staged files', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detbuild-gitroom-sub-'))
  dirs.push(dir)
  const repo = path.join(dir, 'repo')
  const p = path.join(repo, 'packages', 'lib')
  mkdirSync(p, { recursive: true })
  writeFileSync(path.join(repo, 'README.md'), 'root\n')
  writeFileSync(
    path.join(p, 'build.sh'),
    'mkdir -p out\ngit ls-files > out/files.txt\ngit rev-parse HEAD > out/head.txt\n',
  )
  writeFileSync(
    path.join(p, 'detbuild.config.json'),
    JSON.stringify({
      toolchain: { node: 'system' },
      install: [],
      build: ['sh build.sh'],
      outputs: ['out/*.txt'],
      git: true,
    }),
  )
  git(repo, ['init', '-q'])
  git(repo, ['add', '-A'])
  git(repo, ['commit', '-qm', 'one'])
  const r = await runCli(['build', '-C', p])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(artifact(p, 'files.txt'), 'build.sh\ndetbuild.config.json\n')
  assert.equal(artifact(p, 'head.txt'), git(repo, ['rev-parse', 'HEAD']))
})

test('a GIT_DIR in the environment (detbuild run from a git hook) never points the room at the project', async () => {
  const p = makeRepo({ git: true })
  const head = git(p, ['rev-parse', 'HEAD']).trim()
  const branch = git(p, ['rev-parse', '--abbrev-ref', 'HEAD'])
  const stage = path.join(path.dirname(p), 'stage-hook')
  mkdirSync(stage)
  const saved = { GIT_DIR: process.env.GIT_DIR, GIT_WORK_TREE: process.env.GIT_WORK_TREE }
  process.env.GIT_DIR = path.join(p, '.git')
  process.env.GIT_WORK_TREE = p
  try {
    await makeGitRoom(p, stage, head, T2, process.env)
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  // the project still has its branch, history and remote; the room has the commit, detached
  assert.equal(git(p, ['rev-parse', '--abbrev-ref', 'HEAD']), branch)
  assert.notEqual(branch.trim(), 'HEAD')
  assert.equal(git(p, ['rev-list', '--count', 'HEAD']).trim(), '2')
  assert.match(git(p, ['remote']), /origin/)
  assert.equal(readFileSync(path.join(stage, '.git', 'HEAD'), 'utf8'), `${head}\n`)
})
