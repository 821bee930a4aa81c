/**
 * Edge (files, environment): the key that seals detbuild's caches (the OSV record cache, the offline
 * package index, the registry metadata), so that a cache entry is used only when this user's detbuild
 * wrote it.
 *
 * A cache is not produced by the run that reads it, so it is hostile like any input. Its entries check
 * themselves (a digest of their content, the name they are filed under), but a digest in the same file
 * proves only that nothing was damaged: whoever can write the cache folder can write a consistent entry —
 * a record cache entry whose ranges miss your version, an index that lists no record for your packages —
 * and a scan would pass on it. A cache folder restored by a CI cache step is exactly that: written by
 * another job, perhaps one a pull request controlled. So each entry carries an HMAC-SHA256 of its text
 * under a key kept outside every cache folder, and an entry whose HMAC does not hold is ignored (fetched
 * or rebuilt again), never used.
 *
 * The key: `DETBUILD_CACHE_KEY` (at least 32 characters, e.g. a CI secret: caches restored between jobs
 * are then used), else the file `$XDG_STATE_HOME/detbuild/cache-key` (else `~/.local/state/…`), made on
 * first use (64 hex characters, mode 0600, in a 0700 folder). A key file that is not a regular file of
 * 64 hex characters writable only by its owner is not used (nor replaced); nor is one that cannot be
 * made. Then the key lives for this run only: caches are written but never read back — slower, never
 * wrong. No build gets the variable (util/secret-env.ts), and the build room does not mount the state
 * folder (unless DETBUILD_ROOM_MOUNTS names it).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { lstat, mkdir, open, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { InputError } from '../errors.ts'

/** Characters `DETBUILD_CACHE_KEY` needs at least (a short one could be guessed). */
export const MIN_ENV_KEY_LENGTH = 32

/** Where a seal's key came from: the variable, the key file, or this run only. */
export type SealOrigin = 'env' | 'file' | 'run'

export class CacheSeal {
  readonly origin: SealOrigin
  private readonly key: Buffer

  constructor(key: Buffer, origin: SealOrigin) {
    this.key = key
    this.origin = origin
  }

  /** The HMAC of `text`, 64 hex characters. */
  seal(text: string | Buffer): string {
    return createHmac('sha256', this.key).update(text).digest('hex')
  }

  /** Whether `mac` is `text`'s HMAC under this key (compared in constant time). */
  holds(text: string | Buffer, mac: string): boolean {
    if (!/^[0-9a-f]{64}$/.test(mac)) return false
    return timingSafeEqual(Buffer.from(this.seal(text), 'hex'), Buffer.from(mac, 'hex'))
  }

  /** A sealed file's text: the HMAC of `body` on the first line, then `body` and a newline. */
  wrap(body: string): string {
    return `${this.seal(body)}\n${body}\n`
  }

  /** The body of a text {@link wrap} made under this key, or null (not sealed, or not by this key). */
  unwrap(text: string): string | null {
    if (text.length < 66 || text.charCodeAt(64) !== 0x0a || !text.endsWith('\n')) return null
    const body = text.slice(65, -1)
    return this.holds(body, text.slice(0, 64)) ? body : null
  }
}

/** The key file's place: `$XDG_STATE_HOME/detbuild/cache-key` (when absolute), else `~/.local/state/detbuild/cache-key`. */
export function cacheKeyFile(env: Readonly<Record<string, string | undefined>>): string {
  const xdg = env.XDG_STATE_HOME
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || os.homedir(), '.local', 'state')
  return path.join(base, 'detbuild', 'cache-key')
}

const opened = new Map<string, Promise<CacheSeal>>()

/**
 * The seal for caches, once per key source per process. `DETBUILD_CACHE_KEY` shorter than 32 characters
 * is bad input (exit 2, CONFIG_CACHE_KEY_INVALID): a guessable key would be worse than none.
 */
export function openCacheSeal(env: Readonly<Record<string, string | undefined>>): Promise<CacheSeal> {
  const fromEnv = env.DETBUILD_CACHE_KEY
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < MIN_ENV_KEY_LENGTH)
      return Promise.reject(
        new InputError(
          'CONFIG_CACHE_KEY_INVALID',
          `DETBUILD_CACHE_KEY has ${fromEnv.length} characters; it needs at least ${MIN_ENV_KEY_LENGTH}`,
        ),
      )
    const key = createHmac('sha256', 'detbuild cache key').update(fromEnv).digest()
    return Promise.resolve(new CacheSeal(key, 'env'))
  }
  const file = cacheKeyFile(env)
  let seal = opened.get(file)
  if (seal === undefined) {
    seal = keyFromFile(file)
    opened.set(file, seal)
  }
  return seal
}

async function keyFromFile(file: string): Promise<CacheSeal> {
  const existing = await readKeyFile(file)
  if (existing !== undefined)
    return existing === null ? runOnly() : new CacheSeal(Buffer.from(existing, 'hex'), 'file')
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
    const hex = randomBytes(32).toString('hex')
    const handle = await open(file, 'wx', 0o600)
    try {
      await handle.writeFile(`${hex}\n`)
    } finally {
      await handle.close()
    }
    return new CacheSeal(Buffer.from(hex, 'hex'), 'file')
  } catch (e) {
    // another detbuild made it first: use that one
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      const made = await readKeyFile(file)
      if (typeof made === 'string') return new CacheSeal(Buffer.from(made, 'hex'), 'file')
    }
    return runOnly()
  }
}

/** The key file's hex key; undefined when there is none; null when there is one that must not be used. */
async function readKeyFile(file: string): Promise<string | null | undefined> {
  let info: Awaited<ReturnType<typeof lstat>>
  try {
    info = await lstat(file)
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : null
  }
  if (!info.isFile() || (info.mode & 0o022) !== 0 || info.size > 128) return null
  if (typeof process.getuid === 'function' && info.uid !== process.getuid()) return null
  try {
    const text = (await readFile(file, 'utf8')).trim()
    return /^[0-9a-f]{64}$/.test(text) ? text : null
  } catch {
    return null
  }
}

function runOnly(): CacheSeal {
  return new CacheSeal(randomBytes(32), 'run')
}
