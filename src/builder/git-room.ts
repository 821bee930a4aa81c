/**
 * Edge: git and the file system. `git: true` gives the build a minimal git repository in the staged
 * source — the HEAD commit alone (shallow: no parents, no other history, no remotes) and the tags that
 * point at it — so that `git rev-parse HEAD` and `git describe --tags` answer as in the checkout. It is
 * made on the host, before any build command runs, without touching the staged files, and holds nothing
 * of the host: no paths (no remote, no `FETCH_HEAD`), no reflogs, no user name, every file's mtime at
 * SOURCE_DATE_EPOCH, objects stored loose (the same bytes on every machine, where a pack's deltas may
 * differ).
 */
import { execFile } from 'node:child_process'
import { lstat, readdir, rm, utimes } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { InputError } from '../errors.ts'
import { compareCodePoint } from '../util/sort.ts'
import type { SourceInfo } from './stage.ts'

const run = promisify(execFile)

/**
 * git as `inspectSource` runs it: the host's configuration counts (a `safe.directory` the host set for
 * the checkout must keep working); what could make the room differ between machines is set per command.
 * But no variable that points git at another repository, index or object store (GIT_DIR, GIT_WORK_TREE,
 * GIT_INDEX_FILE, … as a git hook that runs detbuild has them): `init` and `update-ref` would write there.
 */
function gitEnv(hostEnv: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(hostEnv))
    if (!name.startsWith('GIT_') || /^GIT_(CONFIG(_.*)?|EXEC_PATH)$/.test(name)) env[name] = value
  return { ...env, GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' }
}

async function git(cwd: string, args: readonly string[], hostEnv: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await run('git', ['-C', cwd, ...args], {
      env: gitEnv(hostEnv),
      maxBuffer: 64 * 1024 * 1024,
    })
    return stdout
  } catch (e) {
    // git's own words, first line only (they may name the staging folder: never an artifact, only the error)
    const said = String((e as { stderr?: unknown }).stderr ?? '')
      .split('\n')
      .find((l) => l.trim() !== '')
    throw new InputError(
      'BUILD_GIT_ROOM_FAILED',
      `git could not make the build's repository (git ${subcommand(args)}): ${said ?? (e as Error).message}`,
      { details: { key: 'git' }, cause: e },
    )
  }
}

/** The git command of an argument list (`-c key=value` pairs before it are skipped). */
function subcommand(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-c') i++
    else if (!(args[i] as string).startsWith('-')) return args[i] as string
  }
  return ''
}

/**
 * Refuses `git: true` for a project that is not a git repository with a commit (exit 2,
 * BUILD_GIT_NOT_A_REPOSITORY): the build asked for git and would otherwise see none.
 */
export function assertGitSource(source: SourceInfo): asserts source is SourceInfo & { commit: string } {
  if (source.kind !== 'git' || source.commit === null)
    throw new InputError(
      'BUILD_GIT_NOT_A_REPOSITORY',
      source.kind === 'git'
        ? '"git": true needs a commit: this repository has none yet'
        : '"git": true needs a git repository, and the project is not one (or git is not installed)',
      { details: { key: 'git' } },
    )
}

export interface GitRoom {
  commit: string
  /** tag names pointing at HEAD, sorted */
  tags: string[]
}

/**
 * Makes `stageDir` (the staged source) a git repository whose HEAD is `commit` of the project at
 * `project`, detached, with the index of that commit (so `git status` shows what staging changed: a
 * dirty file, a left-out key). Files are dated `sourceDateEpoch`.
 */
export async function makeGitRoom(
  project: string,
  stageDir: string,
  commit: string,
  sourceDateEpoch: number,
  /** the environment git runs with (the context's) */
  hostEnv: NodeJS.ProcessEnv,
): Promise<GitRoom> {
  const format = commit.length === 64 ? 'sha256' : 'sha1'
  // the repository's top folder (the project may be a subfolder of it), and the project's place in it
  const [top, prefix] = (await git(project, ['rev-parse', '--show-toplevel', '--show-prefix'], hostEnv))
    .split('\n')
    .map((l) => l.trim())
  if (!top) throw new InputError('BUILD_GIT_ROOM_FAILED', 'git did not name the repository top folder')
  // annotated or not, a tag whose commit is HEAD; names are refs, so they are passed as refspecs only
  const tags = (await git(project, ['tag', '--points-at', commit], hostEnv))
    .split('\n')
    .filter((t) => t !== '')
    .sort(compareCodePoint)
  // no template: no sample hooks, no description file; reflogs off before the first ref is written
  await git(stageDir, ['init', '-q', '--template=', `--object-format=${format}`], hostEnv)
  await git(stageDir, ['config', 'core.logAllRefUpdates', 'false'], hostEnv)
  // a linked worktree or a submodule is fetched through its own top folder too
  await git(
    stageDir,
    [
      '-c',
      'fetch.unpackLimit=2147483647',
      '-c',
      'transfer.unpackLimit=2147483647',
      '-c',
      'core.compression=9',
      '-c',
      'protocol.file.allow=always',
      'fetch',
      '-q',
      '--depth=1',
      '--no-tags',
      '--no-write-fetch-head',
      '--no-recurse-submodules',
      pathToFileURL(top).href,
      commit,
      ...tags.map((t) => `+refs/tags/${t}:refs/tags/${t}`),
    ],
    hostEnv,
  )
  await git(stageDir, ['update-ref', '--no-deref', 'HEAD', commit], hostEnv)
  // the index of HEAD's tree — of the project's folder when the project is a subfolder of the repository,
  // as that is what was staged (`git ls-files` lists the staged files) —, with no stat data of this
  // machine (git compares contents when asked)
  const sub = (prefix ?? '').replace(/\/$/, '')
  await git(stageDir, ['read-tree', sub === '' ? commit : `${commit}:${sub}`], hostEnv)
  const dotGit = path.join(stageDir, '.git')
  for (const leftover of ['FETCH_HEAD', 'ORIG_HEAD', 'logs', 'description', 'hooks', 'info'])
    await rm(path.join(dotGit, leftover), { recursive: true, force: true })
  await dateTree(dotGit, sourceDateEpoch)
  return { commit, tags }
}

/** Sets every file's and folder's mtime under `dir` (and its own) to `epoch`. */
async function dateTree(dir: string, epoch: number): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) await dateTree(p, epoch)
    else if (!(await lstat(p)).isSymbolicLink()) await utimes(p, epoch, epoch)
  }
  await utimes(dir, epoch, epoch)
}
