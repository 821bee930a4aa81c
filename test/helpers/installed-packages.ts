/**
 * The runtime dependency closure of this repository as registry packages, for a loopback registry
 * (npm-registry.ts) that a real `npm install` can install detbuild from without the internet.
 *
 * Each package the production install needs (found as node finds it, from the lockfile's locations) is
 * re-packed from its installed folder (without the folder's own node_modules/: nested packages are
 * lockfile entries of their own) and served with the installed package.json as its packument document. The bytes are not the public registry's (npm
 * checks the integrity the packument states, which is that of the re-packed tarball), but the files,
 * names, versions and dependency ranges are exactly what `npm ci` installed here, so npm resolves the
 * same tree a user gets from the public registry for this lockfile. Hand-written because no library
 * serves an installed tree as a registry (verdaccio would be a large dev dependency for this).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { type ArchiveEntry, writeTar } from '../../src/util/tar.ts'
import type { FakePackage } from './npm-registry.ts'

type LockEntry = Record<string, unknown>

interface Manifest extends Record<string, unknown> {
  name: string
  version: string
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
}

/** Files of an installed package folder, relative with `/`, sorted; no node_modules/ at its top, no symlinks. */
function packageFiles(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => {
      const child = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) return rel === '' && e.name === 'node_modules' ? [] : packageFiles(dir, child)
      return e.isFile() ? [child] : []
    })
    .sort()
}

/** An installed folder as an npm tarball (`package/` prefix), fixed times and owners. */
function packFolder(dir: string): Buffer {
  const entries: ArchiveEntry[] = packageFiles(dir).map((f) => ({
    path: `package/${f}`,
    type: 'file',
    mode: statSync(path.join(dir, f)).mode & 0o111 ? 0o755 : 0o644,
    mtime: 0,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    linkpath: '',
    data: readFileSync(path.join(dir, f)),
  }))
  // level 1: the tarballs only cross the loopback
  return gzipSync(writeTar(entries), { level: 1 })
}

/** The lockfile location node would load `name` from when `from` requires it (its own node_modules, then up). */
function resolveLocation(
  packages: Record<string, LockEntry>,
  from: string,
  name: string,
): string | undefined {
  for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
    const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`
    if (packages[candidate]) return candidate
    if (!dir) return undefined
  }
}

/**
 * The packages a production install of `root` needs (its `dependencies`, their `dependencies`,
 * `optionalDependencies` and required peers, transitively, as its package-lock.json resolved them), one
 * per name@version: an alias such as `string-width-cjs` is served under its real name, as the registry does.
 */
export function runtimePackages(root: string): FakePackage[] {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>
  }
  const byId = new Map<string, FakePackage>()
  const seen = new Set<string>()
  const queue = ['']
  while (queue.length > 0) {
    const location = queue.shift() as string
    const manifest = JSON.parse(readFileSync(path.join(root, location, 'package.json'), 'utf8')) as Manifest
    const peers = Object.keys(manifest.peerDependencies ?? {}).filter(
      (name) => manifest.peerDependenciesMeta?.[name]?.optional !== true,
    )
    for (const name of [
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.optionalDependencies ?? {}),
      ...peers,
    ]) {
      const found = resolveLocation(lock.packages, location, name)
      if (found === undefined || seen.has(found)) continue
      seen.add(found)
      queue.push(found)
    }
    if (location === '') continue
    const id = `${manifest.name}@${manifest.version}`
    if (byId.has(id)) continue
    const document = Object.fromEntries(Object.entries(manifest).filter(([k]) => !k.startsWith('_')))
    byId.set(id, {
      name: manifest.name,
      version: manifest.version,
      manifest: document,
      tarball: packFolder(path.join(root, location)),
    })
  }
  return [...byId.values()]
}
