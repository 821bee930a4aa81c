/**
 * Schema validation. JSON: the CycloneDX JSON schemas compiled ahead of time by ajv's standalone code
 * generation (schema/cyclonedx/validate-<version>.cjs, made by scripts/gen-cdx-validators.ts with the
 * CycloneDX library's validator options and formats; uniqueItems checked in linear time), loaded when a
 * document is to be checked and run on this thread: there is no schema to compile any more, so nothing is
 * worth a worker. XML: the library's validator, or the same XSD in WebAssembly.
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import type { Spec } from '@cyclonedx/cyclonedx-library'
import type { SpecVersion } from './spec.ts'
import { describeValidationError } from './validate-errors.ts'

const require = createRequire(import.meta.url)

export type ValidationOutcome =
  | { ok: true }
  | { ok: false; error: string }
  | { ok: 'skipped'; reason: string }

export interface JsonValidation {
  validate(json: string): Promise<ValidationOutcome>
  close(): Promise<void>
}

type Version = Spec.Version
type CompiledValidator = ((data: unknown) => boolean) & { errors?: unknown[] | null }

/** Literal paths, so that a bundler (the Action, the bundled CLI) takes the compiled validators in. */
async function compiledValidator(version: SpecVersion): Promise<CompiledValidator> {
  switch (version) {
    case '1.7':
      return (await import('../../schema/cyclonedx/validate-1.7.cjs')).default
    case '1.6':
      return (await import('../../schema/cyclonedx/validate-1.6.cjs')).default
    case '1.5':
      return (await import('../../schema/cyclonedx/validate-1.5.cjs')).default
    case '1.4':
      return (await import('../../schema/cyclonedx/validate-1.4.cjs')).default
  }
}

/** Checks one CycloneDX JSON document against the official schema of `version`. */
export async function validateJson(json: string, version: SpecVersion): Promise<ValidationOutcome> {
  let data: unknown
  try {
    data = JSON.parse(json)
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` }
  }
  return validateParsed(data, version)
}

/** Checks a document JSON.parse made (and nothing else: the value must be plain JSON data). */
export async function validateParsed(data: unknown, version: SpecVersion): Promise<ValidationOutcome> {
  let validator: CompiledValidator
  try {
    validator = await compiledValidator(version)
  } catch (e) {
    return { ok: 'skipped', reason: `validator failed to load: ${(e as Error).message}` }
  }
  try {
    return validator(data) ? { ok: true } : { ok: false, error: describeValidationError(validator.errors) }
  } catch (e) {
    // a document nested deeper than the stack: not checked, which the caller reports
    return { ok: 'skipped', reason: (e as Error).message }
  }
}

/**
 * The validator of one spec version for several documents (evidence checks every SBOM of a bundle);
 * nothing is loaded before the first `validate`.
 */
export function startJsonValidation(version: SpecVersion): JsonValidation {
  return {
    validate: (json) => validateJson(json, version),
    async close() {},
  }
}

/**
 * XML: the library's validator when its optional native package libxmljs2 is installed; otherwise the
 * same official XSD (shipped inside the library) checked by libxml2 compiled to WebAssembly (xmllint-wasm),
 * so validation needs no native build.
 */
export async function validateXml(
  xml: string,
  version: SpecVersion,
  engine: 'auto' | 'wasm' = 'auto',
): Promise<ValidationOutcome> {
  if (engine === 'auto') {
    const CDX = await import('@cyclonedx/cyclonedx-library')
    try {
      const result = await new CDX.Validation.XmlValidator(version as Version).validate(xml)
      return result === null ? { ok: true } : { ok: false, error: describeValidationError(result) }
    } catch (e) {
      if (!(e instanceof CDX.Validation.MissingOptionalDependencyError)) throw e
    }
  }
  const schemaDir = path.join(
    path.dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')),
    'res',
    'schema',
  )
  const [bom, spdx] = await Promise.all([
    readFile(path.join(schemaDir, `bom-${version}.SNAPSHOT.xsd`), 'utf8'),
    readFile(path.join(schemaDir, 'spdx.SNAPSHOT.xsd'), 'utf8'),
  ])
  const { validateXML } = await import('xmllint-wasm')
  const result = await validateXML({
    xml: [{ fileName: 'sbom.cdx.xml', contents: xml }],
    schema: [{ fileName: `bom-${version}.SNAPSHOT.xsd`, contents: bom }],
    preload: [{ fileName: 'spdx.SNAPSHOT.xsd', contents: spdx }],
    maxMemoryPages: 16384,
  })
  if (result.valid) return { ok: true }
  const first = result.errors[0]
  return {
    ok: false,
    error: first ? `line ${first.loc?.lineNumber ?? '?'}: ${first.message.trim()}` : result.rawOutput,
  }
}
