/**
 * Edge (the shipped schema files): the JSON Schemas of detbuild's workspace files, compiled once per
 * process with ajv. Both the typed readers and `bundle`'s validation of the files it packs check against
 * these, so a file one of them accepts the other accepts too.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Ajv, ValidateFunction } from 'ajv'

/** The schema of each workspace file: `schema/<kind>.schema.json`. */
export const SCHEMA_KINDS = [
  'vulns',
  'policy-result',
  'build',
  'provenance',
  'repro-report',
  'signatures',
  'in-toto-statement',
] as const
export type SchemaKind = (typeof SCHEMA_KINDS)[number]

/** The first way a value breaks its schema: a JSON path (`$.outputs[0].size`) and ajv's words. */
export interface SchemaProblem {
  path: string
  /** the same place as a JSON Pointer (`/outputs/0/size`; `''` for the whole document) */
  pointer: string
  message: string
}

let ajv: Ajv | undefined
const compiled = new Map<SchemaKind, ValidateFunction>()

function validator(kind: SchemaKind): ValidateFunction {
  let check = compiled.get(kind)
  if (!check) {
    // ajv loads on the first check, not with the workspace's file names (`sbom` needs only those)
    ajv ??= new (createRequire(import.meta.url)('ajv') as typeof import('ajv')).Ajv({
      allErrors: false,
      strict: true,
      allowUnionTypes: true,
    })
    // `schema/` sits two levels above both `src/workspace/` and `dist/workspace/`
    const url = new URL(`../../schema/${kind}.schema.json`, import.meta.url)
    check = ajv.compile(JSON.parse(readFileSync(url, 'utf8')) as object)
    compiled.set(kind, check)
  }
  return check
}

/** `/outputs/0/a b` (a JSON Pointer, as ajv reports it) → `$.outputs[0]["a b"]`. */
export function toJsonPath(pointer: string): string {
  if (pointer === '') return '$'
  let out = '$'
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    if (/^(0|[1-9]\d*)$/.test(key)) out += `[${key}]`
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) out += `.${key}`
    else out += `[${JSON.stringify(key)}]`
  }
  return out
}

/** Pure apart from compiling the schema once: the first problem of `value` against `kind`, or null. */
export function schemaProblem(kind: SchemaKind, value: unknown): SchemaProblem | null {
  const check = validator(kind)
  if (check(value)) return null
  const e = check.errors?.[0]
  const pointer = e?.instancePath ?? ''
  return { path: toJsonPath(pointer), pointer, message: e?.message ?? 'invalid' }
}
