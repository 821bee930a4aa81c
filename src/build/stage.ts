/**
 * Edge: git and the file system. Inspects the source (tracked files, commit, dirty state) and copies
 * exactly those files into a fresh staging folder.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmod, glob, lstat, mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
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
  /** HEAD commit time (seconds), or null */
  commitTime: number | null
  /** POSIX paths relative to the project root, sorted by code point */
  files: string[]
}

export interface StagedFile {
  path: string
  mode: '100644' | '100755' | '120000'
  sha256: string
}

async function git(cwd: string, args: string[]): Promise<string | null> {
  try {
    const { stdout } = await run('git', ['-C', cwd, ...args], {
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C' },
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
): Promise<SourceInfo> {
  const outRel = path.relative(cwd, outDir).split(path.sep).join('/')
  const excluded = (p: string) =>
    DEFAULT_EXCLUDES.some((x) => p === x || p.startsWith(`${x}/`) || p.includes(`/${x}/`)) ||
    (outRel !== '' && !outRel.startsWith('..') && (p === outRel || p.startsWith(`${outRel}/`)))
  // all git questions at once: each one fails (null) outside a repository (so a listing means a
  // repository, even an empty one), `log` also in one without commits, `config` when there is no remote
  const [listed, head, status, remote] = await Promise.all([
    git(cwd, ['ls-files', '-z', '--cached', '.']),
    git(cwd, ['log', '-1', '--no-show-signature', '--format=%H %ct', 'HEAD']),
    git(cwd, ['status', '--porcelain', '--untracked-files=no', '-z', '--', '.']),
    git(cwd, ['config', '--get', 'remote.origin.url']),
  ])
  if (listed !== null) {
    const files = listed
      .split('\0')
      .filter((f) => f !== '' && !excluded(f))
      .sort(compareCodePoint)
    const [commit, time] = (head?.trim() ?? '').split(' ')
    const url = remote?.trim() || null
    return {
      kind: 'git',
      repo: url ? stripCredentials(url) : null,
      commit: commit && /^[0-9a-f]{40,64}$/.test(commit) ? commit : null,
      dirty: (status ?? '') !== '',
      commitTime: commit && time && /^\d+$/.test(time) ? Number(time) : null,
      files,
    }
  }
  const files: string[] = []
  for await (const entry of glob([...include], { cwd, withFileTypes: true })) {
    if (!entry.isFile() && !entry.isSymbolicLink()) continue
    const rel = path.relative(cwd, path.join(entry.parentPath, entry.name)).split(path.sep).join('/')
    if (!excluded(rel)) files.push(rel)
  }
  return {
    kind: 'files',
    repo: null,
    commit: null,
    dirty: false,
    commitTime: null,
    files: [...new Set(files)].sort(compareCodePoint),
  }
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
