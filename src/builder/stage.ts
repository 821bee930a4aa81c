/**
 * Edge: git and the file system. Inspects the source (tracked files, commit, dirty state) and copies
 * exactly those files into a fresh staging folder.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmod, lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import ignore, { type Ignore } from 'ignore'
import { InputError } from '../errors.ts'
import { canonicalJson } from '../util/canonical-json.ts'
import { compareCodePoint } from '../util/sort.ts'

const run = promisify(execFile)

export interface SourceInfo {
  kind: 'git' | 'files'
  /** remote URL without credentials, or null */
  repo: string | null
  commit: string | null
  /** tracked files differ from HEAD (git only) */
  dirty: boolean
  /** POSIX paths relative to the project root, sorted by code point */
  files: string[]
}

export interface StagedFile {
  path: string
  mode: '100644' | '100755' | '120000'
  sha256: string
}

async function git(cwd: string, args: string[], hostEnv: NodeJS.ProcessEnv): Promise<string | null> {
  try {
    const { stdout } = await run('git', ['-C', cwd, ...args], {
      maxBuffer: 256 * 1024 * 1024,
      env: { ...hostEnv, GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C' },
    })
    return stdout
  } catch {
    return null
  }
}

/** Removes user:password@ from URLs so credentials never reach an output. */
export function stripCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1')
}

const DEFAULT_EXCLUDES = ['node_modules', '.git', '.detbuild']

/** Reads what will be built: git-tracked files in a repository, else the include globs. */
export async function inspectSource(
  cwd: string,
  include: readonly string[],
  outDir: string,
  /** the environment git runs with (the context's) */
  hostEnv: NodeJS.ProcessEnv,
): Promise<SourceInfo> {
  const outRel = path.relative(cwd, outDir).split(path.sep).join('/')
  const excluded = (p: string) =>
    DEFAULT_EXCLUDES.some((x) => p === x || p.startsWith(`${x}/`) || p.includes(`/${x}/`)) ||
    (outRel !== '' && !outRel.startsWith('..') && (p === outRel || p.startsWith(`${outRel}/`)))
  // all git questions at once: each one fails (null) outside a repository (so a listing means a
  // repository, even an empty one), `log` also in one without commits, `config` when there is no remote
  const [listed, head, status, remote] = await Promise.all([
    git(cwd, ['ls-files', '-z', '--cached', '.'], hostEnv),
    git(cwd, ['log', '-1', '--no-show-signature', '--format=%H', 'HEAD'], hostEnv),
    git(cwd, ['status', '--porcelain', '--untracked-files=no', '-z', '--', '.'], hostEnv),
    git(cwd, ['config', '--get', 'remote.origin.url'], hostEnv),
  ])
  if (listed !== null) {
    const files = listed
      .split('\0')
      .filter((f) => f !== '' && !excluded(f))
      .sort(compareCodePoint)
    const commit = head?.trim() ?? ''
    const url = remote?.trim() || null
    return {
      kind: 'git',
      repo: url ? stripCredentials(url) : null,
      commit: commit && /^[0-9a-f]{40,64}$/.test(commit) ? commit : null,
      dirty: (status ?? '') !== '',
      files,
    }
  }
  // outside git, the project's .gitignore files still say what is not source (build output, .env
  // files, local keys): what `git add -A` would leave out is not staged either
  const files = await listFiles(cwd, include, excluded, createGitignore(cwd))
  return {
    kind: 'files',
    repo: null,
    commit: null,
    dirty: false,
    files: files.sort(compareCodePoint),
  }
}

// stands in for a segment's leading dot, so that `*` and `**` match dot files as git stages them
const DOT = '\uE000'
const undot = (rel: string) =>
  rel
    .split('/')
    .map((s) => (s.startsWith('.') ? DOT + s.slice(1) : s))
    .join('/')

/**
 * The project's files (and symlinks, never followed) that an `include` glob matches, like `git add -A`
 * would find them: dot files too (`**` matches `.npmrc`, `.babelrc`), nothing under a folder that is
 * excluded or ignored.
 */
async function listFiles(
  cwd: string,
  include: readonly string[],
  excluded: (rel: string) => boolean,
  ignored: (rel: string, isDir: boolean) => Promise<boolean>,
): Promise<string[]> {
  const globs = include.map((g) => g.replace(/^(\.\/)+/, ''))
  const included = (rel: string) =>
    globs.some((g) => path.matchesGlob(rel, g) || path.matchesGlob(undot(rel), g))
  const files: string[] = []
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(path.join(cwd, dir), { withFileTypes: true })
    for (const entry of entries.sort((a, b) => compareCodePoint(a.name, b.name))) {
      const rel = dir === '' ? entry.name : `${dir}/${entry.name}`
      if (excluded(rel)) continue
      if (entry.isDirectory()) {
        if (!(await ignored(rel, true))) await walk(rel)
      } else if ((entry.isFile() || entry.isSymbolicLink()) && !(await ignored(rel, false)) && included(rel))
        files.push(rel)
    }
  }
  await walk('')
  return files
}

/** A .gitignore larger than this is bad input (a real one is a few KiB). */
const MAX_GITIGNORE_BYTES = 1024 * 1024

/**
 * Whether a project-relative POSIX path is ignored by the project's `.gitignore` files, with git's
 * semantics: the root's and every nested folder's `.gitignore` (patterns relative to their folder, the
 * deepest file that matches decides, `!` re-includes), and nothing under an ignored folder can be
 * re-included. Pattern matching is the `ignore` package's (what eslint and prettier use). Only
 * `.gitignore` files count: no `.git/info/exclude` (there is no .git), no global `core.excludesFile`
 * (a host setting would make the staged tree differ between machines).
 */
export function createGitignore(cwd: string): (rel: string, isDir?: boolean) => Promise<boolean> {
  const matchers = new Map<string, Promise<Ignore | null>>()
  const matcherFor = (dir: string): Promise<Ignore | null> => {
    let m = matchers.get(dir)
    if (!m) {
      m = readGitignore(cwd, dir)
      matchers.set(dir, m)
    }
    return m
  }
  const decided = new Map<string, Promise<boolean>>()
  // one prefix (a folder, or the file itself): the deepest .gitignore with a verdict on it decides
  const matches = async (parts: readonly string[], end: number, isDir: boolean): Promise<boolean> => {
    for (let depth = end - 1; depth >= 0; depth--) {
      const ig = await matcherFor(parts.slice(0, depth).join('/'))
      if (!ig) continue
      const r = ig.test(parts.slice(depth, end).join('/') + (isDir ? '/' : ''))
      if (r.ignored) return true
      if (r.unignored) return false
    }
    return false
  }
  const prefixIgnored = (parts: readonly string[], end: number, isDir: boolean): Promise<boolean> => {
    const key = `${parts.slice(0, end).join('/')}${isDir ? '/' : ''}`
    let d = decided.get(key)
    if (!d) {
      // a folder that is ignored hides everything under it: its own verdict comes after its parent's
      d = (async () =>
        (end > 1 && (await prefixIgnored(parts, end - 1, true))) || (await matches(parts, end, isDir)))()
      decided.set(key, d)
    }
    return d
  }
  return (rel, isDir = false) => {
    const parts = rel.split('/')
    return prefixIgnored(parts, parts.length, isDir)
  }
}

async function readGitignore(cwd: string, dir: string): Promise<Ignore | null> {
  const rel = dir === '' ? '.gitignore' : `${dir}/.gitignore`
  const file = path.join(cwd, rel)
  let st: Awaited<ReturnType<typeof lstat>>
  try {
    st = await lstat(file)
  } catch {
    return null
  }
  // git does not follow a symlinked .gitignore either
  if (!st.isFile()) return null
  if (st.size > MAX_GITIGNORE_BYTES)
    throw new InputError(
      'BUILD_GITIGNORE_INVALID',
      `larger than ${MAX_GITIGNORE_BYTES} bytes: not a .gitignore detbuild reads`,
      { file: rel, details: { limit: MAX_GITIGNORE_BYTES } },
    )
  // git reads .gitignore as bytes; patterns are matched on the (UTF-8) path text
  return ignore({ ignorecase: false }).add((await readFile(file)).toString('utf8'))
}

/**
 * Copies `files` from `cwd` into `dest` (which must exist and be empty). `reverse` creates them in the
 * opposite order, which changes the directory listing order on file systems that list by creation.
 * Files tracked but deleted from the worktree are skipped (the source is then dirty anyway).
 */
export async function stageSource(
  cwd: string,
  files: readonly string[],
  dest: string,
  options: { reverse?: boolean; onPrivateKey?: (rel: string) => void } = {},
): Promise<StagedFile[]> {
  const order = options.reverse ? [...files].reverse() : [...files]
  const staged: StagedFile[] = []
  const made = new Set<string>()
  for (const rel of order) {
    const from = path.join(cwd, rel)
    const to = path.join(dest, rel)
    let st: Awaited<ReturnType<typeof lstat>>
    try {
      st = await lstat(from)
    } catch {
      continue
    }
    const parent = path.dirname(to)
    if (!made.has(parent)) {
      await mkdir(parent, { recursive: true, mode: 0o755 })
      made.add(parent)
    }
    if (st.isSymbolicLink()) {
      const target = await readlink(from)
      await symlink(target, to)
      staged.push({ path: rel, mode: '120000', sha256: createHash('sha256').update(target).digest('hex') })
    } else if (st.isFile()) {
      // one read: the bytes that are hashed are the bytes that are staged
      const data = await readFile(from)
      // build code (every dependency's scripts) reads the staged tree and can pack it into an artifact:
      // a private key committed by mistake (a detbuild key, a TLS or SSH key) never goes in
      if (holdsPrivateKey(data)) {
        options.onPrivateKey?.(rel)
        continue
      }
      const exec = (st.mode & 0o111) !== 0
      await writeFile(to, data, { mode: exec ? 0o755 : 0o644 })
      await chmod(to, exec ? 0o755 : 0o644)
      staged.push({
        path: rel,
        mode: exec ? '100755' : '100644',
        sha256: createHash('sha256').update(data).digest('hex'),
      })
    }
  }
  if (staged.length === 0)
    throw new InputError(
      'BUILD_SOURCE_EMPTY',
      'no source files to stage (nothing tracked by git, or include globs match nothing)',
      {
        file: cwd,
      },
    )
  return staged.sort((a, b) => compareCodePoint(a.path, b.path))
}

// PEM private keys of every kind (`PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`, `RSA/EC/DSA/OPENSSH PRIVATE KEY`)
const PEM_PRIVATE_KEY = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/

/** Whether a file holds a PEM private key (what `detbuild keygen`, openssl and ssh-keygen write). */
export function holdsPrivateKey(data: Uint8Array): boolean {
  // latin1 keeps every byte one character, so a key inside a binary file is found too
  return PEM_PRIVATE_KEY.test(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1'))
}

/** One digest for the staged tree: sha256 of the canonical list of (path, mode, sha256). */
export function treeDigest(files: readonly StagedFile[]): string {
  return createHash('sha256')
    .update(canonicalJson(files.map((f) => [f.path, f.mode, f.sha256])))
    .digest('hex')
}
