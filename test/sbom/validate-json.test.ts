/**
 * The ahead-of-time compiled CycloneDX JSON validators (schema/cyclonedx/, src/sbom/validate.ts): they are
 * what scripts/gen-cdx-validators.ts makes today (not stale), and their verdicts equal the CycloneDX
 * library's JsonStrictValidator (the oracle) on valid SBOMs, on crafted invalid ones (duplicates in
 * uniqueItems arrays, top-level and nested, objects equal up to key order) and on random mutations; the
 * linear uniqueItems check names the pair a pairwise comparison names.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import util from 'node:util'
import * as CDX from '@cyclonedx/cyclonedx-library'
import fc from 'fast-check'
import { CDX_VALIDATOR_VERSIONS, generateValidator, validatorFile } from '../../scripts/gen-cdx-validators.ts'
import { defaultEcosystems, npmEcosystem } from '../../src/ecosystems/index.ts'
import { selectPackages } from '../../src/sbom/select.ts'
import { SPEC_VERSIONS, type SpecVersion } from '../../src/sbom/spec.ts'
import { validateJson } from '../../src/sbom/validate.ts'
import { describeValidationError } from '../../src/sbom/validate-errors.ts'
import { writeJsonBom } from '../../src/sbom/write-json.ts'
import { fixture } from '../helpers/paths.ts'

test('the checked-in compiled validators are what scripts/gen-cdx-validators.ts makes now (not stale)', async () => {
  assert.deepEqual([...CDX_VALIDATOR_VERSIONS].sort(), [...SPEC_VERSIONS].sort())
  for (const version of CDX_VALIDATOR_VERSIONS) {
    const fresh = await generateValidator(version)
    assert.ok(fresh.includes('require("./runtime.cjs").duplicateOf'), 'uniqueItems is the linear check')
    assert.ok(
      readFileSync(validatorFile(version), 'utf8') === fresh,
      `schema/cyclonedx/validate-${version}.cjs is stale: run node scripts/gen-cdx-validators.ts`,
    )
  }
})

type Json = Record<string, unknown>
const oracles = new Map<SpecVersion, CDX.Validation.JsonStrictValidator>()
async function oracle(json: string, version: SpecVersion): Promise<{ ok: boolean; error?: string }> {
  let v = oracles.get(version)
  if (!v) {
    v = new CDX.Validation.JsonStrictValidator(version as CDX.Spec.Version)
    oracles.set(version, v)
  }
  const result = await v.validate(json)
  return result === null ? { ok: true } : { ok: false, error: describeValidationError(result) }
}

async function sameVerdict(doc: unknown, version: SpecVersion, what: string): Promise<string | undefined> {
  const json = JSON.stringify(doc)
  const [ours, theirs] = await Promise.all([validateJson(json, version), oracle(json, version)])
  assert.notEqual(ours.ok, 'skipped', what)
  assert.equal(ours.ok, theirs.ok, `${what}: ours ${JSON.stringify(ours)}, library ${JSON.stringify(theirs)}`)
  return ours.ok === false ? ours.error : undefined
}

const sboms = new Map<string, Json>()
async function sbomOf(name: string, spec: SpecVersion): Promise<Json> {
  const key = `${name}@${spec}`
  const cached = sboms.get(key)
  if (cached) return structuredClone(cached)
  const dir = fixture(name)
  const inventory = await (await defaultEcosystems.detect(dir)).readInventory(dir, { source: 'lockfile' })
  const selection = selectPackages(inventory, { omit: new Set(), workspaces: [] })
  const { json } = writeJsonBom(inventory, selection, {
    timestamp: new Date(0),
    tool: { name: 'detbuild', version: '0.1.0' },
    toPurl: npmEcosystem.toPurl,
    spec,
  })
  sboms.set(key, JSON.parse(json) as Json)
  return structuredClone(sboms.get(key)!)
}

const FIXTURES = ['small-app', 'dep-kinds', 'monorepo', 'large-app']

test('valid SBOMs pass, as with the library (every fixture, every spec version)', async () => {
  for (const spec of SPEC_VERSIONS)
    for (const name of FIXTURES) {
      const doc = await sbomOf(name, spec)
      assert.equal(await sameVerdict(doc, spec, `${name} ${spec}`), undefined)
    }
})

/** Crafted invalid documents: the mutation, and the start of the message it must give. */
const CRAFTED: Array<{
  what: string
  mutate: (d: Json & { components: Json[]; dependencies: Json[] }) => void
  message: RegExp
}> = [
  {
    what: 'a duplicate component (top-level uniqueItems)',
    mutate: (d) => d.components.push(structuredClone(d.components[0]!)),
    message:
      /^\/components: must NOT have duplicate items \(items ## \d+ and \d+ are identical\) \{"i":\d+,"j":\d+\}$/,
  },
  {
    what: 'a duplicate component whose keys are in another order',
    mutate: (d) => d.components.push(Object.fromEntries(Object.entries(d.components[1]!).reverse())),
    message: /^\/components: must NOT have duplicate items/,
  },
  {
    what: 'a duplicate in a nested uniqueItems array (dependsOn)',
    mutate: (d) => {
      const dep = d.dependencies.find((x) => Array.isArray(x.dependsOn))!
      ;(dep.dependsOn as string[]).push((dep.dependsOn as string[])[0]!)
    },
    message:
      /^\/dependencies\/\d+\/dependsOn: must NOT have duplicate items \(items ## 0 and \d+ are identical\)/,
  },
  {
    what: 'a duplicate nested component (component.components)',
    mutate: (d) => {
      const inner = { type: 'library', name: 'inner', version: '1.0.0' }
      d.components[0]!.components = [inner, { version: '1.0.0', name: 'inner', type: 'library' }]
    },
    message: /^\/components\/0\/components: must NOT have duplicate items \(items ## 0 and 1 are identical\)/,
  },
  {
    // the check groups items by their top-level values first: these two share every one of them and
    // differ only inside a nested array, so they are compared in full
    what: 'a duplicate that differs from an earlier near-copy only deep inside',
    mutate: (d) => {
      const near = structuredClone(d.components[0]!)
      near.properties = [{ name: 'x', value: 'near' }]
      const copy = structuredClone(near)
      copy.properties = [{ name: 'x', value: 'near' }]
      const other = structuredClone(near)
      other.properties = [{ name: 'x', value: 'other' }]
      d.components.push(near, other, copy)
    },
    message: /^\/components: must NOT have duplicate items \(items ## \d+ and \d+ are identical\)/,
  },
  {
    what: 'a wrong enum value',
    mutate: (d) => {
      d.components[0]!.type = 'not-a-type'
    },
    message: /^\/components\/0\/type/,
  },
  {
    what: 'an unknown property',
    mutate: (d) => {
      d.components[0]!.unexpected = true
    },
    message: /^\/components\/0: must NOT have additional properties/,
  },
  {
    what: 'a missing required property',
    mutate: (d) => {
      delete d.bomFormat
    },
    message: /^\/: must have required property 'bomFormat'/,
  },
  {
    what: 'a timestamp that is not a date-time (formats)',
    mutate: (d) => {
      ;(d.metadata as Json).timestamp = 'yesterday'
    },
    message: /^\/metadata\/timestamp: must match format "date-time"/,
  },
  {
    what: 'an e-mail address that is not one (idn-email)',
    mutate: (d) => {
      ;(d.metadata as Json).authors = [{ name: 'x', email: 'not an address' }]
    },
    message: /^\/metadata\/authors\/0\/email: must match format "idn-email"/,
  },
  {
    what: 'an unknown SPDX licence id (the referenced spdx schema)',
    mutate: (d) => {
      d.components[0]!.licenses = [{ license: { id: 'NOT-SPDX' } }]
    },
    message: /^\/components\/0\/licenses\/0/,
  },
]

for (const c of CRAFTED) {
  test(`invalid: ${c.what} fails with the kind of message the library gives (every spec version)`, async () => {
    for (const spec of SPEC_VERSIONS) {
      const doc = (await sbomOf('dep-kinds', spec)) as Json & { components: Json[]; dependencies: Json[] }
      c.mutate(doc)
      const error = await sameVerdict(doc, spec, `${c.what} ${spec}`)
      assert.match(error ?? '(valid)', c.message, `${c.what} ${spec}`)
    }
  })
}

test('the uniqueItems message names the same pair as the library (the last repeat and its last copy)', async () => {
  const doc = (await sbomOf('dep-kinds', '1.6')) as Json & { dependencies: Json[] }
  const dep = doc.dependencies.find((x) => Array.isArray(x.dependsOn))!
  const list = dep.dependsOn as string[]
  dep.dependsOn = [list[0], 'a', list[0], 'b', 'a', 'c']
  const json = JSON.stringify(doc)
  const ours = await validateJson(json, '1.6')
  assert.deepEqual(ours, await oracle(json, '1.6'))
  assert.match((ours as { error: string }).error, /items ## 1 and 4 are identical\) \{"i":4,"j":1\}$/)
})

test('unparsable JSON is invalid, never valid', async () => {
  const outcome = await validateJson('{"bomFormat": "CycloneDX",', '1.6')
  assert.equal(outcome.ok, false)
  assert.match((outcome as { error: string }).error, /^not JSON: /)
})

// random mutations: a value replaced somewhere in a real SBOM, or an array item duplicated
const jsonValue = fc.oneof(
  fc.constantFrom(null, true, 0, -1, 1.5, '', 'x', 'library', 'required', 'SHA-512', '2023-11-14T22:13:20Z'),
  fc.constant([]),
  fc.constant({}),
  fc.constant({ name: 'n', value: 'v' }),
)

function paths(value: unknown, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []) {
  out.push(prefix)
  if (Array.isArray(value)) for (const [i, v] of value.entries()) paths(v, [...prefix, i], out)
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out)
  return out
}

test('random mutations of a real SBOM: the same verdict as the library (property)', async () => {
  const base = await sbomOf('dep-kinds', '1.6')
  const all = paths(base).filter((p) => p.length > 0)
  const verdicts = { valid: 0, invalid: 0 }
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...SPEC_VERSIONS),
      fc.nat(all.length - 1),
      fc.oneof(
        jsonValue.map((v) => ({ set: v })),
        fc.constant({ duplicate: true }),
      ),
      async (spec, index, change) => {
        const doc = await sbomOf('dep-kinds', spec)
        const p = paths(doc).filter((x) => x.length > 0)[
          index % paths(doc).filter((x) => x.length > 0).length
        ]!
        let parent: unknown = doc
        for (const k of p.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[k]
        const key = p[p.length - 1]!
        const holder = parent as Record<string | number, unknown>
        if ('set' in change) holder[key] = structuredClone(change.set)
        else if (Array.isArray(holder[key]) && (holder[key] as unknown[]).length > 0)
          (holder[key] as unknown[]).push(structuredClone((holder[key] as unknown[])[0]))
        else if (Array.isArray(parent)) parent.push(structuredClone(holder[key]))
        const error = await sameVerdict(doc, spec, `${spec} ${JSON.stringify(p)} ${JSON.stringify(change)}`)
        verdicts[error === undefined ? 'valid' : 'invalid']++
      },
    ),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 200) },
  )
  // the corpus holds both verdicts, so an always-valid or always-invalid validator would fail above
  assert.ok(verdicts.valid > 0 && verdicts.invalid > 0, JSON.stringify(verdicts))
})

test('uniqueItems names the pair a pairwise deep comparison names, on arrays of near-copies (property)', () => {
  const { duplicateOf } = createRequire(import.meta.url)('../../schema/cyclonedx/runtime.cjs') as {
    duplicateOf: (items: unknown[]) => [number, number] | undefined
  }
  // ajv's own rule: the last item i equal to an earlier one, and the last such j < i
  const pairwise = (items: unknown[]) => {
    for (let i = items.length - 1; i > 0; i--)
      for (let j = i - 1; j >= 0; j--) if (util.isDeepStrictEqual(items[i], items[j])) return [i, j]
    return undefined
  }
  // few distinct leaves, so items often share their top-level values and differ only deep inside
  const leaf = fc.constantFrom<unknown>(null, true, 0, 1, 'a', 'b')
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      leaf,
      fc.array(tie('value'), { maxLength: 2 }),
      fc.dictionary(fc.constantFrom('a', 'b', 'c'), tie('value'), { maxKeys: 3, noNullPrototype: true }),
    ),
  }))
  let found = 0
  fc.assert(
    fc.property(fc.array(value, { maxLength: 8 }), (items) => {
      const expected = pairwise(items)
      if (expected) found++
      assert.deepEqual(duplicateOf(items), expected, JSON.stringify(items))
      // key order never matters
      const reordered = items.map((v) =>
        v !== null && typeof v === 'object' && !Array.isArray(v)
          ? Object.fromEntries(Object.entries(v).reverse())
          : v,
      )
      assert.deepEqual(duplicateOf(reordered), expected)
    }),
    { numRuns: 2000 },
  )
  assert.ok(found > 100, `arrays with a duplicate: ${found}`)
})
