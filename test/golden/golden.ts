/**
 * Golden files: every output compared byte for byte with a committed file under test/golden/files/, and
 * schema-validated in the same test. `DETBUILD_UPDATE_GOLDEN=1` rewrites the files instead of comparing
 * (review the change like code); without it a difference fails with a short unified diff.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import * as CDX from '@cyclonedx/cyclonedx-library'
import { BUNDLE_V02_MEDIA_TYPE, BUNDLE_V03_MEDIA_TYPE, bundleFromJSON } from '@sigstore/bundle'
import { Ajv, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import { createTwoFilesPatch } from 'diff'
import { validateXml } from '../../src/sbom/validate.ts'

export const ROOT = path.resolve(import.meta.dirname, '../..')
export const GOLDEN_DIR = path.join(ROOT, 'test', 'golden', 'files')
/** The switch: rewrite the golden files from the outputs instead of comparing. */
export const UPDATE = process.env.DETBUILD_UPDATE_GOLDEN === '1'
const HOW =
  "DETBUILD_UPDATE_GOLDEN=1 node --test 'test/golden/*.test.ts' test/builder/check-report.test.ts (then review the change)"
/** Lines of the unified diff shown on a mismatch: enough to see the first differences, no flood. */
const MAX_DIFF_LINES = 40

/**
 * A short unified diff of the first differences between the golden text and the output, or, for bytes
 * that are not UTF-8 text, the offset of the first differing byte.
 */
export function describeMismatch(name: string, expected: Buffer, actual: Buffer): string {
  const asText = (b: Buffer): string | null => {
    const t = b.toString('utf8')
    return t.includes('\uFFFD') || t.includes('\u0000') ? null : t
  }
  const [e, a] = [asText(expected), asText(actual)]
  if (e === null || a === null) {
    let i = 0
    while (i < expected.length && i < actual.length && expected[i] === actual[i]) i++
    return `${name}: bytes differ from offset ${i} (golden ${expected.length} bytes, output ${actual.length} bytes)`
  }
  const patch = createTwoFilesPatch(`golden/${name}`, `output/${name}`, e, a, undefined, undefined, {
    context: 2,
  })
  // the "===" banner says nothing here
  const lines = patch
    .replace(/\n$/, '')
    .split('\n')
    .filter((l) => !/^=+$/.test(l))
  const shown = lines.slice(0, MAX_DIFF_LINES)
  if (lines.length > MAX_DIFF_LINES) shown.push(`… ${lines.length - MAX_DIFF_LINES} more diff line(s)`)
  return `${name} differs from its golden file:\n${shown.join('\n')}`
}

/**
 * Compares `actual` with test/golden/files/<name> byte for byte; with the switch on, writes it instead
 * (only when it changed, so an update run leaves untouched files alone).
 */
export function assertGolden(
  name: string,
  actual: string | Uint8Array,
  options: { update?: boolean; dir?: string } = {},
): void {
  const file = path.join(options.dir ?? GOLDEN_DIR, name)
  const bytes = Buffer.from(typeof actual === 'string' ? Buffer.from(actual, 'utf8') : actual)
  const present = existsSync(file)
  if (options.update ?? UPDATE) {
    if (!present || !readFileSync(file).equals(bytes)) {
      mkdirSync(path.dirname(file), { recursive: true })
      writeFileSync(file, bytes)
    }
    return
  }
  assert.ok(present, `no golden file test/golden/files/${name}; create it with ${HOW}`)
  const expected = readFileSync(file)
  if (!expected.equals(bytes))
    assert.fail(`${describeMismatch(name, expected, bytes)}\nIf the change is intended: ${HOW}`)
}

// ---------------------------------------------------------------- schemas

/** detbuild's own schemas (schema/*.schema.json), compiled the way the bundle step compiles them. */
export type OwnSchema =
  | 'vulns'
  | 'policy-result'
  | 'build'
  | 'provenance'
  | 'repro-report'
  | 'signatures'
  | 'in-toto-statement'
  | 'config'

const own = new Map<OwnSchema, ValidateFunction>()
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true })

function ajvErrors(v: ValidateFunction): string {
  return (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'invalid'}`).join('; ')
}

/** Fails unless `text` parses and satisfies schema/<kind>.schema.json. */
export function assertOwnSchema(kind: OwnSchema, text: string): void {
  let validate = own.get(kind)
  if (!validate) {
    const schema = JSON.parse(readFileSync(path.join(ROOT, 'schema', `${kind}.schema.json`), 'utf8'))
    validate = ajv.compile(schema as object)
    own.set(kind, validate)
  }
  assert.ok(validate(JSON.parse(text)), `not a valid ${kind} document: ${ajvErrors(validate)}`)
}

let sarif: ValidateFunction | undefined

/**
 * The official SARIF 2.1.0 schema (OASIS errata01, vendored unchanged in test/golden/schemas/, see the
 * README there). It is written in draft-04, which Ajv 8 does not read: draft-04 and draft-07 differ only
 * in `id` vs `$id` and in the boolean form of exclusiveMinimum/Maximum (unused in this schema), so it is
 * compiled as draft-07 with `id` renamed. Formats (uri, uri-reference, date-time) are checked.
 */
export function assertSarif(text: string): void {
  if (!sarif) {
    const raw = JSON.parse(
      readFileSync(path.join(ROOT, 'test', 'golden', 'schemas', 'sarif-schema-2.1.0.json'), 'utf8'),
    ) as Record<string, unknown>
    assert.ok(!JSON.stringify(raw).includes('"exclusiveM'), 'the draft-04 → draft-07 reading assumes none')
    const { id, $schema: _draft04, ...rest } = raw as { id: string; $schema: string }
    const sarifAjv = new Ajv({ allErrors: true, strict: false })
    addFormats.default(sarifAjv)
    sarif = sarifAjv.compile({ $schema: 'http://json-schema.org/draft-07/schema#', $id: id, ...rest })
  }
  assert.ok(sarif(JSON.parse(text)), `not a valid SARIF 2.1.0 log: ${ajvErrors(sarif)}`)
}

/** CycloneDX JSON: the library's strict JSON validator (the official schema), as test/sbom does. */
export async function assertCycloneDxJson(text: string): Promise<void> {
  const version = (JSON.parse(text) as { specVersion: string }).specVersion as CDX.Spec.Version
  const invalid = await new CDX.Validation.JsonStrictValidator(version).validate(text)
  assert.equal(invalid, null, `not a valid CycloneDX ${version} JSON document: ${JSON.stringify(invalid)}`)
}

/** CycloneDX XML: the sbom step's own XML validation (the library's XSD, libxml2). */
export async function assertCycloneDxXml(text: string, version: '1.6' | '1.5' = '1.6'): Promise<void> {
  const outcome = await validateXml(text, version)
  assert.deepEqual(outcome, { ok: true }, `not a valid CycloneDX ${version} XML document`)
}

/**
 * A sigstore bundle as @sigstore/bundle reads it (the format is theirs): v0.3, or v0.2 for a message
 * signature made with a key (@sigstore/sign writes those as v0.2; only keyless ones are lifted to v0.3).
 */
export function assertSigstoreBundle(text: string): void {
  const bundle = bundleFromJSON(JSON.parse(text))
  assert.ok(
    [BUNDLE_V02_MEDIA_TYPE, BUNDLE_V03_MEDIA_TYPE].includes(bundle.mediaType),
    `unexpected bundle media type ${bundle.mediaType}`,
  )
}

/** Text for people: UTF-8, no NUL, LF line ends, one final newline. */
export function assertMarkdown(text: string): void {
  assert.ok(!text.includes('\uFFFD') && !text.includes('\u0000'), 'not UTF-8 text')
  assert.ok(!text.includes('\r'), 'CR in the text')
  assert.ok(text.endsWith('\n') && !text.endsWith('\n\n'), 'not one final newline')
}
