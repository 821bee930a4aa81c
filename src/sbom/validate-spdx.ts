/**
 * Schema validation of the SPDX documents detbuild writes, against the official JSON schemas committed in
 * schema/spdx/ (source and licence: schema/spdx/README.md): SPDX 2.3 (draft-07, ajv's `Ajv`) and SPDX
 * 3.0.1 (draft 2020-12, ajv's `Ajv2020`). Each schema is compiled when a document of its version is
 * first checked (the 3.0.1 schema takes about half a second), once per process.
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { ValidationOutcome } from './validate.ts'
import { describeValidationError } from './validate-errors.ts'

const require = createRequire(import.meta.url)

export type SpdxVersion = '2.3' | '3.0.1'

type Compiled = ((data: unknown) => boolean) & { errors?: unknown[] | null }

const SCHEMA_FILES: Record<SpdxVersion, URL> = {
  '2.3': new URL('../../schema/spdx/spdx-2.3.schema.json', import.meta.url),
  '3.0.1': new URL('../../schema/spdx/spdx-3.0.1.schema.json', import.meta.url),
}

const compiled = new Map<SpdxVersion, Promise<Compiled>>()

async function compile(version: SpdxVersion): Promise<Compiled> {
  const schema = JSON.parse(await readFile(fileURLToPath(SCHEMA_FILES[version]), 'utf8')) as object
  const addFormats = require('ajv-formats') as (ajv: unknown) => void
  // the SPDX schemas use only standard keywords; strict mode off as for CycloneDX (unknown `$comment`s)
  const options = { strict: false, allErrors: false, validateSchema: false }
  if (version === '3.0.1') {
    const Ajv2020 = (
      require('ajv/dist/2020') as { default: new (o: object) => { compile(s: object): Compiled } }
    ).default
    const ajv = new Ajv2020(options)
    addFormats(ajv)
    return ajv.compile(schema)
  }
  const Ajv = (require('ajv') as { default: new (o: object) => { compile(s: object): Compiled } }).default
  const ajv = new Ajv(options)
  addFormats(ajv)
  return ajv.compile(schema)
}

/** Checks one SPDX JSON document against the official schema of `version`. */
export async function validateSpdx(json: string, version: SpdxVersion): Promise<ValidationOutcome> {
  let validator: Compiled
  try {
    let pending = compiled.get(version)
    if (!pending) {
      pending = compile(version)
      compiled.set(version, pending)
    }
    validator = await pending
  } catch (e) {
    compiled.delete(version)
    return { ok: 'skipped', reason: `the SPDX ${version} schema failed to load: ${(e as Error).message}` }
  }
  let data: unknown
  try {
    data = JSON.parse(json)
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` }
  }
  try {
    return validator(data) ? { ok: true } : { ok: false, error: describeValidationError(validator.errors) }
  } catch (e) {
    return { ok: 'skipped', reason: (e as Error).message }
  }
}
