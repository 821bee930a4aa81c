/**
 * Compiles the CycloneDX JSON schemas (spec 1.4–1.7, from @cyclonedx/cyclonedx-library's res/schema) ahead
 * of time with ajv's standalone code generation, into schema/cyclonedx/validate-<version>.cjs, so that a
 * run loads a ready validator instead of compiling the schema (~268 ms per run before).
 *
 *   node scripts/gen-cdx-validators.ts           write the files
 *   node scripts/gen-cdx-validators.ts --check   exit 1 when a checked-in file differs from a fresh build
 *                                                (test/sbom/validate.test.ts runs the same comparison)
 *
 * The ajv options and formats are the library's JsonStrictValidator's (its _optPlug.node/__jsonValidators/
 * ajv.js), so the verdicts are the same; two keywords differ in how, not in what: `uniqueItems` calls
 * schema/cyclonedx/runtime.cjs's linear check instead of ajv's pairwise one, and a long enum of strings
 * is a Set lookup instead of a loop of deep comparisons. Annotations (descriptions and the like) are left
 * out of the schemas first: they change no verdict.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { _, Ajv, type CodeKeywordDefinition, type KeywordCxt, str, stringify } from 'ajv'

const require = createRequire(import.meta.url)
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const OUT_DIR = path.join(ROOT, 'schema', 'cyclonedx')
const SCHEMA_DIR = path.join(
  path.dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')),
  'res',
  'schema',
)
export const CDX_VALIDATOR_VERSIONS = ['1.4', '1.5', '1.6', '1.7'] as const
const REFERENCED = {
  'http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json': 'spdx.SNAPSHOT.schema.json',
  'http://cyclonedx.org/schema/cryptography-defs.SNAPSHOT.schema.json':
    'cryptography-defs.SNAPSHOT.schema.json',
  'http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json': 'jsf-0.82.SNAPSHOT.schema.json',
}
const runtime = require(path.join(OUT_DIR, 'runtime.cjs')) as {
  formats: Record<string, unknown>
  duplicateOf: (items: unknown[]) => [number, number] | undefined
}
const addFormats = require('ajv-formats') as (ajv: Ajv) => void
const enumKeyword = (require('ajv/dist/vocabularies/validation/enum') as { default: CodeKeywordDefinition })
  .default
/** Enums of primitives this long or longer are checked by a Set (same verdict: equality of primitives). */
const SET_ENUM = 16
const standaloneCode = require('ajv/dist/standalone') as (ajv: Ajv, validate: unknown) => string
const addDraft2019Formats = require('ajv-formats-draft2019') as (
  ajv: Ajv,
  options: { formats: string[] },
) => void

const readJson = async (name: string) =>
  withoutAnnotations(JSON.parse(await readFile(path.join(SCHEMA_DIR, name), 'utf8'))) as object

/** Keywords that only annotate (JSON Schema's meta-data vocabulary, and CycloneDX's `meta:enum`). */
const ANNOTATIONS = new Set(['title', 'description', '$comment', 'examples', 'meta:enum', 'deprecated'])
/** Keywords whose value is data, not a schema: nothing inside them is a keyword. */
const DATA = new Set(['enum', 'const', 'default', 'examples'])

/**
 * The schema without its annotations: they change no verdict, but ajv's standalone code embeds the schema
 * objects it refers to, descriptions and all (the 1.6 validator was 914 KB, most of it prose that every
 * run read and parsed). A member of `properties` (or `definitions`, `patternProperties`) is a name, never a
 * keyword, even when it is named `description`.
 */
function withoutAnnotations(value: unknown, names = false): unknown {
  if (Array.isArray(value)) return value.map((v) => withoutAnnotations(v))
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    if (!names && ANNOTATIONS.has(key)) continue
    if (names) out[key] = withoutAnnotations(v)
    else if (DATA.has(key)) out[key] = v
    else
      out[key] = withoutAnnotations(
        v,
        key === 'properties' || key === 'definitions' || key === '$defs' || key === 'patternProperties',
      )
  }
  return out
}

/** The generated module's text for one spec version (deterministic for the same ajv and schemas). */
export async function generateValidator(version: (typeof CDX_VALIDATOR_VERSIONS)[number]): Promise<string> {
  const schemas: Record<string, object> = {}
  for (const [uri, file] of Object.entries(REFERENCED)) schemas[uri] = await readJson(file)
  const ajv = new Ajv({
    // the library's options
    useDefaults: false,
    strict: false,
    strictSchema: false,
    addUsedSchema: false,
    loadSchema: (uri: string) => {
      throw new Error(`Remote schemas are disabled: ${uri}`)
    },
    schemas,
    // standalone code: formats and the uniqueItems check come from runtime.cjs
    code: { source: true, formats: _`require("./runtime.cjs").formats` },
  })
  addFormats(ajv)
  addDraft2019Formats(ajv, { formats: ['idn-email'] })
  ajv.addFormat('iri-reference', true)
  ajv.removeKeyword('uniqueItems')
  ajv.addKeyword({
    keyword: 'uniqueItems',
    type: 'array',
    schemaType: 'boolean',
    error: {
      message: ({ params }) =>
        str`must NOT have duplicate items (items ## ${params.j} and ${params.i} are identical)`,
      params: ({ params }) => _`{i: ${params.i}, j: ${params.j}}`,
    },
    code(cxt: KeywordCxt) {
      if (cxt.schema !== true) return
      const { gen, data } = cxt
      const fn = gen.scopeValue('func', {
        ref: runtime.duplicateOf,
        code: _`require("./runtime.cjs").duplicateOf`,
      })
      const dup = gen.const('dup', _`${fn}(${data})`)
      cxt.setParams({ i: _`${dup}[0]`, j: _`${dup}[1]` })
      cxt.fail(_`${dup} !== undefined`)
    },
  })
  // a long enum of strings (the SPDX licence ids: over 700) is a Set lookup, not ajv's loop of deep
  // comparisons over the whole list for every licence of every component; any other enum is ajv's own
  ajv.removeKeyword('enum')
  ajv.addKeyword({
    ...enumKeyword,
    code(cxt: KeywordCxt) {
      const { schema } = cxt
      const primitive = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v)
      if (cxt.$data || !Array.isArray(schema) || schema.length < SET_ENUM || !schema.every(primitive)) {
        enumKeyword.code!(cxt)
        return
      }
      const set = cxt.gen.scopeValue('keyword', {
        ref: new Set(schema),
        code: _`new Set(${stringify(schema)})`,
      })
      cxt.pass(_`${set}.has(${cxt.data})`)
    },
  })
  const validate = ajv.compile(await readJson(`bom-${version}.SNAPSHOT.schema.json`))
  const code = standaloneCode(ajv, validate)
  return `// Generated by scripts/gen-cdx-validators.ts from the CycloneDX ${version} JSON schema. Do not edit.\n${code}\n`
}

/** The type of every generated module (written next to it as validate-<version>.d.cts). */
const DECLARATION = `// Generated by scripts/gen-cdx-validators.ts. Do not edit.
declare const validate: ((data: unknown) => boolean) & { errors?: unknown[] | null }
export = validate
`

export const validatorFile = (version: string) => path.join(OUT_DIR, `validate-${version}.cjs`)

async function main(argv: string[]): Promise<number> {
  let stale = 0
  for (const version of CDX_VALIDATOR_VERSIONS) {
    const fresh = await generateValidator(version)
    const file = validatorFile(version)
    const rel = path.relative(ROOT, file)
    if (argv.includes('--check')) {
      const current = await readFile(file, 'utf8').catch(() => undefined)
      if (current !== fresh) {
        process.stderr.write(
          `${rel} is stale: run node scripts/gen-cdx-validators.ts and commit the result\n`,
        )
        stale++
      }
      continue
    }
    await writeFile(file, fresh)
    await writeFile(file.replace(/\.cjs$/, '.d.cts'), DECLARATION)
    process.stdout.write(`wrote ${rel}: ${Buffer.byteLength(fresh)} bytes\n`)
  }
  return stale > 0 ? 1 : 0
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  process.exitCode = await main(process.argv.slice(2))
