/**
 * Pure: the shapes of `package.json` and `package-lock.json` / `npm-shrinkwrap.json`, checked before
 * they reach Arborist, which crashes with TypeErrors (or quietly drops data) on type-confused input.
 * Each problem is exit 2 naming the file and the JSON path, e.g.
 * `package-lock.json: packages["node_modules/a"].version must be a string, not a number`.
 */
import ssri from 'ssri'
import type { ErrorCode } from '../../errors.ts'
import { InputError } from '../../errors.ts'
import { describeJsonType } from '../../util/json-parse.ts'

type Json = Record<string, unknown>

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** `a.b`, or `a["node_modules/x"]` for keys that are not identifiers. */
function child(where: string, key: string | number): string {
  if (typeof key === 'number') return `${where}[${key}]`
  const k = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key)
  if (where === '') return k.startsWith('"') ? `[${k}]` : k
  return k.startsWith('"') ? `${where}[${k}]` : `${where}.${k}`
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

/** Pure: whether ssri reads at least one hash from `value`, each with a base64 digest. */
function isIntegrity(value: string): boolean {
  const parsed = ssri.parse(value, { single: false }) as ssri.Integrity | null
  if (parsed === null) return false
  const hashes = Object.values(parsed).flat() as ssri.Hash[]
  return hashes.length > 0 && hashes.every((h) => BASE64.test(h.digest))
}

/** A short quote of a string for a message (a hostile one can be megabytes). */
function quote(value: string): string {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value
  return `${JSON.stringify(shown)}${value.length > 40 ? ` (${value.length} characters)` : ''}`
}

class ShapeChecker {
  private readonly file: string
  private readonly code: ErrorCode

  constructor(file: string, code: ErrorCode) {
    this.file = file
    this.code = code
  }

  fail(where: string, expected: string, value: unknown, described = describeJsonType(value)): never {
    throw new InputError(this.code, `${where || 'the document'} must be ${expected}, not ${described}`, {
      file: this.file,
      details: { path: where ? `$.${where}` : '$' },
    })
  }

  object(v: unknown, where: string): Json {
    if (!isObject(v)) this.fail(where, 'an object', v)
    return v
  }

  optString(o: Json, key: string, where: string): void {
    if (o[key] !== undefined && typeof o[key] !== 'string') this.fail(child(where, key), 'a string', o[key])
  }

  /**
   * An SRI integrity string. npm hands an unparsable one to ssri, which yields no hash, and then installs
   * without checking anything (fail open); detbuild reports hashes from it, so it must hold at least one
   * hash ssri reads, and every hash it reads must carry a base64 digest.
   */
  optIntegrity(o: Json, key: string, where: string): void {
    const v = o[key]
    if (v === undefined) return
    const at = child(where, key)
    if (typeof v !== 'string') this.fail(at, 'a string', v)
    if (!isIntegrity(v)) this.fail(at, 'an SRI integrity string such as "sha512-<base64>"', v, quote(v))
  }

  optBoolean(o: Json, key: string, where: string): void {
    if (o[key] !== undefined && typeof o[key] !== 'boolean')
      this.fail(child(where, key), 'true or false', o[key])
  }

  optStringOrObject(o: Json, key: string, where: string): void {
    const v = o[key]
    if (v !== undefined && typeof v !== 'string' && !isObject(v))
      this.fail(child(where, key), 'a string or an object', v)
  }

  /** An object whose values are all strings (dependency ranges, scripts, engines). */
  optStringMap(o: Json, key: string, where: string): void {
    const v = o[key]
    if (v === undefined) return
    const at = child(where, key)
    for (const [k, value] of Object.entries(this.object(v, at)))
      if (typeof value !== 'string') this.fail(child(at, k), 'a string', value)
  }

  optStringList(o: Json, key: string, where: string): void {
    const v = o[key]
    if (v === undefined) return
    const at = child(where, key)
    if (!Array.isArray(v)) this.fail(at, 'an array of strings', v)
    v.forEach((item, i) => {
      if (typeof item !== 'string') this.fail(child(at, i), 'a string', item)
    })
  }
}

const DEPENDENCY_FIELDS = [
  'dependencies',
  'devDependencies',
  'optionalDependencies',
  'peerDependencies',
] as const

/** The fields of a manifest (a package.json, or a lockfile `packages` entry) Arborist reads. */
function checkManifestFields(c: ShapeChecker, m: Json, where: string): void {
  for (const key of ['name', 'version'] as const) c.optString(m, key, where)
  for (const key of DEPENDENCY_FIELDS) c.optStringMap(m, key, where)
  if (m.peerDependenciesMeta !== undefined)
    c.object(m.peerDependenciesMeta, child(where, 'peerDependenciesMeta'))
  for (const key of ['bundleDependencies', 'bundledDependencies'] as const)
    if (typeof m[key] !== 'boolean') c.optStringList(m, key, where)
  c.optStringOrObject(m, 'license', where)
  c.optStringOrObject(m, 'bin', where)
  for (const key of ['os', 'cpu'] as const) c.optStringList(m, key, where)
  // old manifests carry engines as a list; only a scalar is nonsense
  if (m.engines !== undefined && (typeof m.engines !== 'object' || m.engines === null))
    c.fail(child(where, 'engines'), 'an object', m.engines)
  const ws = m.workspaces
  if (ws !== undefined) {
    if (isObject(ws)) c.optStringList(ws, 'packages', child(where, 'workspaces'))
    else c.optStringList(m, 'workspaces', where)
  }
}

/** Throws SBOM_PACKAGE_JSON_INVALID (exit 2) naming the JSON path of the first wrongly typed field. */
export function assertPackageJsonShape(raw: unknown, file = 'package.json'): void {
  const c = new ShapeChecker(file, 'SBOM_PACKAGE_JSON_INVALID')
  checkManifestFields(c, c.object(raw, ''), '')
}

/** Throws SBOM_LOCKFILE_INVALID (exit 2) naming the JSON path of the first wrongly typed field. */
export function assertLockfileShape(raw: unknown, file: string): void {
  const c = new ShapeChecker(file, 'SBOM_LOCKFILE_INVALID')
  const lock = c.object(raw, '')
  c.optString(lock, 'name', '')
  c.optString(lock, 'version', '')
  if (lock.packages !== undefined)
    for (const [key, entry] of Object.entries(c.object(lock.packages, 'packages'))) {
      const where = child('packages', key)
      const e = c.object(entry, where)
      checkManifestFields(c, e, where)
      c.optString(e, 'resolved', where)
      c.optIntegrity(e, 'integrity', where)
      for (const f of [
        'link',
        'dev',
        'optional',
        'devOptional',
        'peer',
        'inBundle',
        'hasInstallScript',
        'extraneous',
      ] as const)
        c.optBoolean(e, f, where)
    }
  // lockfile v1 (and v2's copy): nested `dependencies`, walked without recursion
  const stack: Array<[unknown, string]> =
    lock.dependencies === undefined ? [] : [[lock.dependencies, 'dependencies']]
  while (stack.length > 0) {
    const [deps, at] = stack.pop()!
    for (const [name, entry] of Object.entries(c.object(deps, at))) {
      const where = child(at, name)
      const e = c.object(entry, where)
      for (const f of ['version', 'resolved'] as const) c.optString(e, f, where)
      c.optIntegrity(e, 'integrity', where)
      for (const f of ['dev', 'optional', 'bundled'] as const) c.optBoolean(e, f, where)
      c.optStringMap(e, 'requires', where)
      if (e.dependencies !== undefined) stack.push([e.dependencies, child(where, 'dependencies')])
    }
  }
}
