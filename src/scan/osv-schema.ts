/**
 * Pure: the shape of an OSV record that detbuild relies on, written once and read by two checkers —
 * `assertOsvRecord` on parsed values (it names the JSON path of the first mismatch) and the byte-level
 * record scanner (which abstains on any mismatch, so the full check decides). A field of the wrong type
 * (a `references` object, a numeric `id`, a `ranges` entry without `type`) would otherwise be skipped
 * silently by the matcher and hide a finding: it is bad input instead.
 *
 * Fields not listed here may hold anything; listed fields that are absent are fine unless `required`.
 * (It imports nothing heavy: the export worker threads load it.)
 */
import { InputError } from '../errors.ts'
import type { OsvAffected, OsvRecord } from './types.ts'

/** What the scanner records from a string field while it validates it. */
export const Capture = {
  none: 0,
  id: 1,
  modified: 2,
  withdrawn: 3,
  ecosystem: 4,
  name: 5,
} as const
export type Capture = (typeof Capture)[keyof typeof Capture]

export type Shape =
  | { readonly kind: 'string'; readonly capture: Capture; readonly nonEmpty: boolean }
  | { readonly kind: 'object' }
  | { readonly kind: 'array'; readonly of: Shape }
  | {
      readonly kind: 'fields'
      readonly fields: ReadonlyMap<string, Field>
      /** the same fields as a list, with each name's bytes (the scanner compares bytes, not strings) */
      readonly list: readonly Field[]
      /** bits of the fields that must be present */
      readonly required: number
      /** the `affected[].package` object: the scanner pairs its ecosystem and name */
      readonly isPackage: boolean
    }

export interface Field {
  readonly name: string
  readonly bytes: Uint8Array
  readonly shape: Shape
  /** this field's bit in a mask of fields seen */
  readonly bit: number
}

const str = (capture: Capture = Capture.none, nonEmpty = false): Shape => ({
  kind: 'string',
  capture,
  nonEmpty,
})
const arr = (of: Shape): Shape => ({ kind: 'array', of })
const OBJECT: Shape = { kind: 'object' }

function fields(
  spec: Record<string, Shape>,
  required: readonly string[] = [],
  isPackage = false,
): Shape & { kind: 'fields' } {
  const list: Field[] = Object.entries(spec).map(([name, shape], i) => ({
    name,
    bytes: Uint8Array.from(name, (c) => c.charCodeAt(0)),
    shape,
    bit: 1 << i,
  }))
  const map = new Map(list.map((f) => [f.name, f]))
  let mask = 0
  for (const r of required) mask |= map.get(r)!.bit
  return { kind: 'fields', fields: map, list, required: mask, isPackage }
}

const EVENT = fields({ introduced: str(), fixed: str(), last_affected: str(), limit: str() })
// a range without `type` would never be evaluated: the version would look unaffected
const RANGE = fields({ type: str(), repo: str(), events: arr(EVENT) }, ['type', 'events'])
// a package without `ecosystem` or `name` could never be matched
const PACKAGE = fields(
  { ecosystem: str(Capture.ecosystem), name: str(Capture.name), purl: str() },
  ['ecosystem', 'name'],
  true,
)
const AFFECTED = fields({
  package: PACKAGE,
  ranges: arr(RANGE),
  versions: arr(str()),
  ecosystem_specific: OBJECT,
  database_specific: OBJECT,
})

/** The OSV record as detbuild reads it. */
export const RecordShape = fields(
  {
    id: str(Capture.id, true),
    modified: str(Capture.modified),
    published: str(),
    withdrawn: str(Capture.withdrawn),
    aliases: arr(str()),
    related: arr(str()),
    summary: str(),
    details: str(),
    severity: arr(fields({ type: str(), score: str() }, ['type', 'score'])),
    affected: arr(AFFECTED),
    references: arr(fields({ type: str(), url: str() }, ['url'])),
    database_specific: OBJECT,
    schema_version: str(),
  },
  ['id', 'modified'],
)

/** JSON path of a member, `a.b` or `a["odd key"]`, for messages. */
export function memberPath(parent: string, key: string): string {
  const safe = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : null
  if (safe === null) return `${parent}[${JSON.stringify(key)}]`
  return parent === '' ? key : `${parent}.${key}`
}

/**
 * The first place where `value` does not have `shape`, as [JSON path, problem], or null when it fits.
 * Paths are relative to the record (`affected[0].ranges[1].type`); the record itself is `(record)`.
 * Paths are built only for a value that does not fit: the check of a good record allocates nothing.
 */
export function findShapeError(value: unknown, shape: Shape, at = ''): [string, string] | null {
  return fitsShape(value, shape) ? null : locateShapeError(value, shape, at)
}

/** Whether `value` has `shape` (the same rules as locateShapeError, without the paths). */
function fitsShape(value: unknown, shape: Shape): boolean {
  switch (shape.kind) {
    case 'string':
      return typeof value === 'string' && !(shape.nonEmpty && value === '')
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value)
    case 'array': {
      if (!Array.isArray(value)) return false
      for (let i = 0; i < value.length; i++) if (!fitsShape(value[i], shape.of)) return false
      return true
    }
    case 'fields': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
      const obj = value as Record<string, unknown>
      for (const f of shape.list) {
        if (!Object.hasOwn(obj, f.name)) {
          if (shape.required & f.bit) return false
          continue
        }
        if (!fitsShape(obj[f.name], f.shape)) return false
      }
      return true
    }
  }
}

function locateShapeError(value: unknown, shape: Shape, at: string): [string, string] | null {
  const where = at === '' ? '(record)' : at
  switch (shape.kind) {
    case 'string':
      if (typeof value !== 'string') return [where, 'must be a string']
      if (shape.nonEmpty && value === '') return [where, 'must not be empty']
      return null
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value)
        ? null
        : [where, 'must be an object']
    case 'array': {
      if (!Array.isArray(value)) return [where, 'must be an array']
      for (let i = 0; i < value.length; i++) {
        const e = locateShapeError(value[i], shape.of, `${at}[${i}]`)
        if (e) return e
      }
      return null
    }
    case 'fields': {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return [where, 'must be an object']
      const obj = value as Record<string, unknown>
      for (const [name, f] of shape.fields) {
        if (!Object.hasOwn(obj, name)) {
          if (shape.required & f.bit) return [memberPath(at, name), 'is missing']
          continue
        }
        const e = locateShapeError(obj[name], f.shape, memberPath(at, name))
        if (e) return e
      }
      return null
    }
  }
}

/**
 * Checks the fields detbuild relies on (see osv-schema.ts); a malformed record is bad input naming the
 * file and the JSON path of the first field that does not fit.
 */
export function assertOsvRecord(raw: unknown, file: string): OsvRecord {
  const problem = findShapeError(raw, RecordShape)
  if (problem !== null) {
    const [at, why] = problem
    throw new InputError('SCAN_OSV_RECORD_INVALID', `not an OSV record: ${at} ${why}`, {
      file,
      details: { path: at },
    })
  }
  return raw as OsvRecord
}

/** A Go entry's `ecosystem_specific.imports` (checked where it is used: go-reach.ts), else undefined. */
function goImports(a: OsvAffected): unknown {
  if (a.package?.ecosystem !== 'Go') return undefined
  const es = a.ecosystem_specific
  return typeof es === 'object' && es !== null ? (es as { imports?: unknown }).imports : undefined
}

/** The fields findings and outputs use; drops `details` and the like to bound memory. */
export function slimRecord(r: OsvRecord): OsvRecord {
  const ds = r.database_specific
  return {
    id: r.id,
    modified: r.modified,
    ...(r.published ? { published: r.published } : {}),
    ...(r.aliases ? { aliases: r.aliases } : {}),
    ...(r.summary !== undefined
      ? { summary: r.summary }
      : r.details
        ? { summary: r.details.split('\n')[0]!.slice(0, 200) }
        : {}),
    ...(r.severity ? { severity: r.severity } : {}),
    affected: (r.affected ?? []).map((a) => ({
      ...(a.package ? { package: a.package } : {}),
      ...(a.ranges ? { ranges: a.ranges } : {}),
      ...(a.versions ? { versions: a.versions } : {}),
      // Go records: the vulnerable packages and symbols, for reachability (scan/go-reach.ts)
      ...(goImports(a) !== undefined ? { ecosystem_specific: { imports: goImports(a) } } : {}),
    })),
    ...(r.references ? { references: r.references.slice(0, 20) } : {}),
    ...(ds ? { database_specific: { severity: ds.severity, cwe_ids: ds.cwe_ids } } : {}),
  }
}
