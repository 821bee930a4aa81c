/**
 * Edge: the file system. The sha256 (and version) of a toolchain binary, remembered between builds.
 * Hashing a ~120 MB node binary costs about half a second; a build only re-hashes it when the file's
 * identity changes: device, inode, size, mtime and ctime (in nanoseconds). ctime cannot be set by a
 * user and moves on every content change, so a rewrite in place is always noticed.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '../util/fs.ts'
import { parseJsonText } from '../util/json-parse.ts'

export interface ToolDigest {
  sha256: string
  /** the tool's version when the caller records one (system node), else null */
  version: string | null
}

interface DigestRecord extends ToolDigest {
  schemaVersion: 1
  file: string
  fingerprint: string
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer)
  return hash.digest('hex')
}

async function fingerprintOf(file: string): Promise<string> {
  const st = await stat(file, { bigint: true })
  return [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join(':')
}

/**
 * Returns the digest of `file`, from `recordFile` when the file is unchanged since it was written,
 * else computed (with `version()` when given) and remembered. The record is best effort: a cache that
 * cannot be written only costs the next build a re-hash.
 */
export async function cachedToolDigest(
  file: string,
  recordFile: string,
  version?: () => Promise<string | null>,
): Promise<ToolDigest> {
  const fingerprint = await fingerprintOf(file)
  try {
    const rec = parseJsonText(await readFile(recordFile, 'utf8')) as Partial<DigestRecord>
    if (
      rec.schemaVersion === 1 &&
      rec.file === file &&
      rec.fingerprint === fingerprint &&
      typeof rec.sha256 === 'string' &&
      /^[0-9a-f]{64}$/.test(rec.sha256) &&
      (version === undefined || typeof rec.version === 'string')
    )
      return { sha256: rec.sha256, version: rec.version ?? null }
  } catch {}
  const [sha256, v] = await Promise.all([sha256File(file), version ? version() : Promise.resolve(null)])
  // a file that changed while it was read is not remembered
  if ((await fingerprintOf(file)) === fingerprint && (version === undefined || v !== null)) {
    const rec: DigestRecord = { schemaVersion: 1, file, fingerprint, sha256, version: v }
    await writeFileAtomic(recordFile, `${JSON.stringify(rec)}\n`).catch(() => {})
  }
  return { sha256, version: v }
}

/**
 * The version in the package.json of the npm behind an `npm` executable (usually a symlink to
 * `<package>/bin/npm-cli.js`), or null when it is not found there (a wrapper script, a shim).
 */
export async function readNpmVersion(npmBin: string): Promise<string | null> {
  let dir: string
  try {
    dir = await realpath(npmBin)
  } catch {
    return null
  }
  for (let i = 0; i < 2; i++) {
    dir = path.dirname(dir)
    try {
      const pkg = parseJsonText(await readFile(path.join(dir, 'package.json'), 'utf8')) as {
        name?: unknown
        version?: unknown
      }
      if (pkg.name === 'npm' && typeof pkg.version === 'string') return pkg.version
    } catch {}
  }
  return null
}
