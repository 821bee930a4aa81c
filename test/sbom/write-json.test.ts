/**
 * The direct JSON writer (write-json.ts) against its oracle, the CycloneDX library path (to-bom.ts +
 * serialize.ts): equal bytes for every fixture project with a lockfile, every spec version, every omit
 * and workspace variant, and for generated inventories whose manifests carry every kind of field shape
 * (licences, repositories, engines, integrity strings, flags) a hostile lockfile can hold.
 */
import assert from 'node:assert/strict'
import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  defaultEcosystems,
  type Inventory,
  type InventoryNode,
  npmEcosystem,
} from '../../src/ecosystems/index.ts'
import type { OmitType } from '../../src/sbom/model.ts'
import { selectPackages } from '../../src/sbom/select.ts'
import { serializeBom } from '../../src/sbom/serialize.ts'
import { SPEC_VERSIONS, type SpecVersion } from '../../src/sbom/spec.ts'
import { toSupplierPlan, withRegistryManifests } from '../../src/sbom/supplier.ts'
import { toBom } from '../../src/sbom/to-bom.ts'
import {
  asJsonData,
  buildBomDocument,
  serializeBomDocument,
  writeJsonBom,
} from '../../src/sbom/write-json.ts'
import { fixture, repoRoot } from '../helpers/paths.ts'

const tool = { name: 'detbuild', version: '0.1.0' }
const timestamp = new Date(1_700_000_000_000)

function bothWays(
  inventory: Inventory,
  omit: readonly OmitType[],
  workspaces: readonly string[],
  spec: SpecVersion,
): { library: string; direct: string; edges: [number, number]; count: [number, number] } {
  const selection = selectPackages(inventory, { omit: new Set(omit), workspaces })
  // an author on some variants (both writers write metadata.authors the same way)
  const author = omit.length === 1 ? { name: 'ACME Corp', email: 'sbom@acme.example' } : undefined
  const { bom, componentCount, compositions } = toBom(inventory, selection, {
    timestamp,
    tool,
    toPurl: npmEcosystem.toPurl,
    author,
  })
  const library = serializeBom(bom, spec, false, compositions)
  const built = buildBomDocument(inventory, selection, {
    timestamp,
    tool,
    toPurl: npmEcosystem.toPurl,
    spec,
    author,
  })
  const direct = serializeBomDocument(built)
  // the object the schema check reads is exactly the JSON data of the text
  asJsonData(built.doc)
  assert.deepStrictEqual({ ...built.doc, serialNumber: direct.serialNumber }, JSON.parse(direct.json))
  if (author) assert.match(direct.json, /"email": "sbom@acme\.example"/)
  const doc = JSON.parse(library.json) as { dependencies: Array<{ dependsOn?: string[] }> }
  const edges = doc.dependencies.reduce((n, d) => n + (d.dependsOn?.length ?? 0), 0)
  assert.equal(direct.serialNumber, library.serialNumber)
  assert.equal(direct.root.purl, String(bom.metadata.component!.purl))
  return {
    library: library.json,
    direct: direct.json,
    edges: [direct.dependencyEdges, edges],
    count: [direct.componentCount, componentCount],
  }
}

function lockfileProjects(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue
    const p = path.join(dir, name)
    if (statSync(p).isDirectory()) lockfileProjects(p, out)
    else if (name === 'package-lock.json') out.push(dir)
  }
  return out
}

const projects = lockfileProjects(path.join(repoRoot, 'fixtures'))

test('the fixture projects with a lockfile are found (the oracle below covers them)', () => {
  assert.ok(projects.length >= 10, projects.join(', '))
  assert.ok(projects.includes(fixture('large-app')))
  assert.ok(projects.includes(fixture('monorepo')))
})

const OMITS: OmitType[][] = [[], ['dev'], ['optional'], ['peer'], ['dev', 'optional', 'peer']]

for (const dir of projects) {
  const rel = path.relative(repoRoot, dir)
  test(`${rel}: the direct JSON writer gives the library path's bytes (every spec, omit, workspace)`, async () => {
    const ecosystem = await defaultEcosystems.detect(dir)
    const inventory = await ecosystem.readInventory(dir, { source: 'lockfile' })
    const variants: Array<[readonly OmitType[], readonly string[]]> = OMITS.map((o) => [o, []])
    for (const ws of [...inventory.workspaces.keys()].sort()) variants.push([[], [ws]], [['dev'], [ws]])
    if (inventory.workspaces.size > 1) variants.push([[], [...inventory.workspaces.keys()].sort()])
    for (const spec of SPEC_VERSIONS) {
      for (const [omit, workspaces] of variants) {
        const r = bothWays(inventory, omit, workspaces, spec)
        const what = `${rel} spec ${spec} omit [${omit}] workspaces [${workspaces}]`
        assert.equal(r.direct, r.library, what)
        assert.equal(r.edges[0], r.edges[1], what)
        assert.equal(r.count[0], r.count[1], what)
      }
    }
  })
}

// ---------- generated inventories: every manifest field shape the library handles ----------

const anyJson = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -2, max: 3 }),
  fc.constantFrom('', ' ', 'x', '#', 'a b'),
  fc.constant([]),
  fc.constant(['a', 'b']),
  fc.constant({}),
)
const licenseString = fc.oneof(
  fc.constantFrom(
    'MIT',
    'mit',
    'Apache-2.0',
    'apache-2.0',
    'ISC',
    '(MIT OR Apache-2.0)',
    'MIT AND ISC',
    'GPL-2.0-or-later WITH Classpath-exception-2.0',
    'SEE LICENSE IN LICENSE.md',
    'UNLICENSED',
    'BSD',
    'Custom "quoted" <licence>',
    '',
    'LicenseRef-foo',
  ),
  fc.string({ maxLength: 6 }),
)
const urlish = fc.oneof(
  fc.constantFrom(
    'https://github.com/a/b',
    'git+https://github.com/a/b.git',
    'git@github.com:a/b.git',
    'github:a/b',
    'a/b',
    'http://x.test/a b/[c]{d}<e>"f"\'g\'',
    'user@host:path with space',
    '',
    'https://example.test/#frag',
  ),
  fc.string({ maxLength: 8 }),
)
const sri = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    'sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==',
    'sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=',
    'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
    'sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb',
    'sha512-abc',
    'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU= sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=',
    'md5-1B2M2Y8AsgTpgAmY7PhCfg==',
    'garbage',
  ),
)
const manifest = fc.record(
  {
    description: fc.oneof(anyJson, fc.string({ maxLength: 5 })),
    license: fc.oneof(anyJson, licenseString, fc.constant({ type: 'MIT', url: 'https://x.test' })),
    licenses: fc.oneof(
      anyJson,
      fc.array(
        fc.oneof(
          anyJson,
          fc.record(
            { type: fc.oneof(licenseString, anyJson), url: fc.oneof(urlish, anyJson) },
            { requiredKeys: [] },
          ),
        ),
        { maxLength: 3 },
      ),
    ),
    author: fc.oneof(
      anyJson,
      fc.string({ maxLength: 4 }),
      fc.record({ name: fc.oneof(anyJson, fc.string()) }),
    ),
    repository: fc.oneof(
      anyJson,
      urlish,
      fc.record(
        {
          type: fc.constant('git'),
          url: fc.oneof(urlish, anyJson),
          directory: fc.oneof(anyJson, fc.constantFrom('pkg/a', 'a#b')),
        },
        { requiredKeys: [] },
      ),
    ),
    homepage: fc.oneof(anyJson, urlish),
    bugs: fc.oneof(anyJson, urlish, fc.record({ url: fc.oneof(anyJson, urlish) }, { requiredKeys: [] })),
    engines: fc.oneof(
      anyJson,
      fc.dictionary(
        fc.constantFrom('node', 'npm', 'Node', 'a b', '0'),
        fc.oneof(fc.string({ maxLength: 4 }), anyJson),
        {
          maxKeys: 3,
        },
      ),
      fc.constant(['node >= 0.4']),
    ),
    private: fc.oneof(anyJson, fc.constant(true)),
  },
  { requiredKeys: [] },
)
const nodeSpec = fc.record({
  name: fc.constantFrom('a', 'b', 'B', 'é', '@s/a', '@s/b', '@Scope/c', 'a-b', 'a_b', 'z'),
  version: fc.constantFrom('1.0.0', '1.0.0', '2.0.0-rc.1', '0.0.1+build'),
  kind: fc.constantFrom('registry', 'registry', 'git', 'remote', 'file', 'directory', 'workspace'),
  resolved: fc.oneof(
    fc.constant(undefined),
    fc.constantFrom('https://registry.test/a/-/a-1.0.0.tgz', 'git+ssh://git@x.test/a.git#0123', 'file:../a'),
  ),
  integrity: sri,
  dev: fc.boolean(),
  optional: fc.boolean(),
  devOptional: fc.boolean(),
  peer: fc.boolean(),
  extraneous: fc.boolean(),
  bundled: fc.boolean(),
  manifest,
  deps: fc.array(fc.nat(30), { maxLength: 4 }),
  linked: fc.boolean(),
})

type NodeSpec = typeof nodeSpec extends fc.Arbitrary<infer T> ? T : never

function inventoryOf(rootManifest: object, specs: NodeSpec[]): Inventory {
  const root: InventoryNode = {
    key: '',
    name: 'root-app',
    version: '1.0.0',
    location: '',
    kind: 'root',
    resolved: undefined,
    integrity: undefined,
    dev: false,
    optional: false,
    devOptional: false,
    peer: false,
    extraneous: false,
    bundled: false,
    manifest: rootManifest,
    deps: [],
  }
  const nodes = new Map<string, InventoryNode>([['', root]])
  specs.forEach((s, i) => {
    const key = `node_modules/${s.name}${i > 0 ? `/n${i}` : ''}`
    nodes.set(key, {
      key,
      name: s.name,
      version: s.version,
      location: key,
      ...(s.linked ? { linkedFrom: [`packages/${i}`] } : {}),
      kind: s.kind as InventoryNode['kind'],
      resolved: s.resolved,
      integrity: s.integrity,
      dev: s.dev,
      optional: s.optional,
      devOptional: s.devOptional,
      peer: s.peer,
      extraneous: s.extraneous,
      bundled: s.bundled,
      manifest: s.manifest as InventoryNode['manifest'],
      deps: [],
    })
  })
  const keys = [...nodes.keys()]
  specs.forEach((s, i) => {
    const node = [...nodes.values()][i + 1]!
    node.deps = s.deps.map((d) => keys[d % keys.length]!)
  })
  root.deps = keys.slice(1, 4)
  return {
    root,
    nodes,
    warnings: [],
    lockfile: 'package-lock.json',
    lockfileVersion: 3,
    source: 'lockfile',
    workspaces: new Map(),
  }
}

test('generated inventories: the direct JSON writer gives the library path bytes (property)', () => {
  fc.assert(
    fc.property(
      manifest,
      fc.array(nodeSpec, { maxLength: 12 }),
      fc.constantFrom(...SPEC_VERSIONS),
      fc.constantFrom(...OMITS),
      (rootManifest, specs, spec, omit) => {
        const inventory = inventoryOf(rootManifest, specs)
        const r = bothWays(inventory, omit, [], spec)
        assert.equal(r.direct, r.library)
        assert.deepEqual(r.edges[0], r.edges[1])
      },
    ),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
  )
})

test('suppliers: the direct JSON writer gives the library path bytes with supplier, publisher and markers', async () => {
  for (const name of ['dep-kinds', 'monorepo', 'large-app']) {
    const dir = fixture(name)
    const inventory = await (await defaultEcosystems.detect(dir)).readInventory(dir, { source: 'lockfile' })
    // a registry that knows every other registry package: an author for some, a publisher for others
    const byPackage = new Map<string, { manifest: Record<string, unknown>; publisher?: string }>()
    let i = 0
    for (const n of inventory.nodes.values()) {
      if (n.kind !== 'registry') continue
      i++
      if (i % 2 === 0) continue
      byPackage.set(`${n.name}@${n.version}`, {
        manifest: i % 3 === 0 ? { author: { name: `Author ${i} "quoted" <x>` }, description: 'd' } : {},
        publisher: i % 5 === 0 ? undefined : `pub-${i}`,
      })
    }
    const registry = {
      registry: 'https://r.test/',
      byPackage,
      digest: '0'.repeat(64),
      fetched: 0,
      cached: 0,
      gaps: [],
    }
    const suppliers = toSupplierPlan(inventory, registry as never)
    const described = withRegistryManifests(inventory, registry as never)
    const selection = selectPackages(described, { omit: new Set(), workspaces: [] })
    for (const spec of SPEC_VERSIONS) {
      const { bom, compositions } = toBom(described, selection, {
        timestamp,
        tool,
        toPurl: npmEcosystem.toPurl,
        suppliers,
      })
      const library = serializeBom(bom, spec, false, compositions).json
      const direct = writeJsonBom(described, selection, {
        timestamp,
        tool,
        toPurl: npmEcosystem.toPurl,
        spec,
        suppliers,
      }).json
      assert.equal(direct, library, `${name} spec ${spec}`)
      const doc = JSON.parse(direct) as { components: Array<{ supplier?: unknown; properties?: unknown[] }> }
      assert.ok(
        doc.components.some((c) => c.supplier !== undefined),
        name,
      )
      assert.ok(direct.includes('"detbuild:supplier"') && direct.includes('"unknown"'), name)
    }
  }
})

test('the serial from the indented text is the serial of the compact JSON, whatever the pieces', async () => {
  const { serialOfIndented } = await import('../../src/sbom/write-json.ts')
  const { serialFromContent } = await import('../../src/sbom/spec.ts')
  const tricky = [
    'a "quoted" \\ back\\slash, spaces   inside, \n newline, \t tab',
    'emoji 😀 and ü, ☃, 𝄞 astral',
    '\\"',
    '"',
    ' ',
    '',
  ]
  fc.assert(
    fc.property(
      fc.jsonValue({ maxDepth: 4 }),
      fc.array(fc.constantFrom(...tricky), { maxLength: 6 }),
      fc.integer({ min: 1, max: 40 }),
      (value, strings, piece) => {
        const doc = { strings, value, version: 1 }
        const indented = JSON.stringify(doc, null, 2)
        assert.equal(serialOfIndented(indented, piece), serialFromContent(JSON.stringify(doc)))
      },
    ),
    { numRuns: 500 },
  )
})

test('the document text written piece by piece is exactly JSON.stringify(doc, null, 2) (property)', async () => {
  const { indentedJson } = await import('../../src/sbom/write-json.ts')
  const member = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    // the shapes of an SBOM's lists: arrays of objects holding arrays and objects, empty ones, undefined
    fc.array(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }), { maxLength: 5 }),
    fc.constant([]),
    fc.constant(undefined),
    fc.constant([undefined, 1]),
  )
  fc.assert(
    fc.property(fc.dictionary(fc.string(), member, { maxKeys: 6 }), (doc) => {
      assert.equal(indentedJson(doc), JSON.stringify(doc, null, 2))
    }),
    { numRuns: 1000 },
  )
  assert.equal(indentedJson({}), '{}')
  assert.equal(indentedJson({ a: undefined }), '{}')
})

test('asJsonData leaves exactly the JSON data of the text, and refuses what JSON would change (property)', () => {
  // plain JSON with keys whose value is undefined, anywhere
  const holey = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom<unknown>(null, true, false, 0, -0, 1.5, '', 'x', '\u2028'),
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(fc.string(), fc.oneof(tie('value'), fc.constant(undefined)), {
        maxKeys: 4,
        noNullPrototype: true,
      }),
    ),
  })).value
  fc.assert(
    // a document is an object: a value in place of a top-level one cannot be replaced (-0)
    fc.property(holey, (inner) => {
      const value = { inner }
      const expected = JSON.parse(JSON.stringify(value)) as unknown
      const copy = structuredClone(value)
      asJsonData(copy)
      assert.deepStrictEqual(copy, expected)
    }),
    { numRuns: 1000 },
  )
  const refused: Array<[unknown, RegExp]> = [
    [{ a: [1, undefined] }, /^\$\.a\[1\] is undefined/],
    [{ a: { b: Number.NaN } }, /^\$\.a\.b is NaN/],
    [{ a: Number.POSITIVE_INFINITY }, /^\$\.a is Infinity/],
    [{ 'a b': new Date(0) }, /^\$\["a b"\] is an object that is not plain/],
    [{ a: new Map() }, /not plain/],
    [{ a: { toJSON: () => 1 } }, /not plain/],
    [{ a: [() => 1] }, /^\$\.a\[0\] is a function/],
    [{ a: 1n }, /is a bigint/],
  ]
  for (const [value, message] of refused) assert.throws(() => asJsonData(value), { message })
})

test('a large document streams in many buffers, a piece longer than the buffer alone, to exactly the indented text and its serial', async () => {
  const { streamBomDocument } = await import('../../src/sbom/write-json.ts')
  const { serialFromContent } = await import('../../src/sbom/spec.ts')
  // 3 MiB is the stream's buffer: 40,000 components of about 250 bytes need several, one 4 MiB
  // description needs a piece of its own, and multi-byte characters end up on buffer boundaries
  const components = Array.from({ length: 40_000 }, (_, i) => ({
    type: 'library',
    name: `pkg-${i}-ü😀`,
    version: `1.0.${i}`,
    'bom-ref': `pkg:npm/pkg-${i}@1.0.${i}`,
    group: i % 3 === 0 ? undefined : 'g',
    properties: [{ name: 'n', value: '"quoted" \\ back\\slash  spaces' }],
  }))
  components[20_000] = { ...components[20_000]!, description: 'é'.repeat(4 * 1024 * 1024) } as never
  const doc = {
    $schema: 'x',
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    serialNumber: undefined,
    metadata: { timestamp: '2023-11-14T22:13:20.000Z' },
    components,
    dependencies: [],
    compositions: [{ aggregate: 'complete' }],
  }
  const writes: Array<{ at: number; bytes: Buffer }> = []
  const meta = streamBomDocument(
    { doc, componentCount: 40_000, dependencyEdges: 0, root: { version: '', purl: '' } },
    (bytes, at) => writes.push({ at, bytes: Buffer.from(bytes) }),
  )
  assert.ok(writes.length > 5, `${writes.length} writes`)
  // the pieces tile the file: each starts where the one before ends, the head last at offset 0
  const ordered = [...writes].sort((a, b) => a.at - b.at)
  let end = 0
  for (const w of ordered) {
    assert.equal(w.at, end)
    end += w.bytes.length
  }
  assert.equal(writes.at(-1)!.at, 0)
  const expectedSerial = serialFromContent(JSON.stringify(doc))
  assert.equal(meta.serialNumber, expectedSerial)
  const expected = `${JSON.stringify({ ...doc, serialNumber: expectedSerial }, null, 2)}\n`
  assert.equal(Buffer.concat(ordered.map((w) => w.bytes)).toString('utf8'), expected)
})
