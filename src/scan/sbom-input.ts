/**
 * Pure: turns a CycloneDX JSON SBOM (the detbuild contract: bom-ref = purl, metadata.component is the
 * root, `dependencies` holds the graph) into the list of components to check, with dev flags, direct
 * flags and the shortest paths from the root.
 */
import { PackageURL } from 'packageurl-js'
import { defaultEcosystems, type EcosystemRegistry } from '../ecosystems/index.ts'
import { InputError } from '../errors.ts'
import { readSbom } from '../sbom-read/index.ts'
import { specVersionProblem } from '../util/input-shapes.ts'
import { compareCodePoint } from '../util/sort.ts'
import type { GoFacts, ScanComponent } from './types.ts'

export interface SbomComponentRaw {
  'bom-ref'?: string
  purl?: string
  name?: string
  group?: string
  version?: string
  scope?: string
  type?: string
  properties?: Array<{ name: string; value: string }>
  components?: SbomComponentRaw[]
}

export interface SbomInput {
  rootName: string
  rootRef: string | null
  components: ScanComponent[]
  /** components that cannot be checked, with the reason (no purl, no version, unknown type) */
  unchecked: Array<{ ref: string; reason: string }>
  /** the dependency graph: ref → the refs it depends on (sorted) */
  graph: ReadonlyMap<string, readonly string[]>
}

/**
 * The SBOM file's text → the CycloneDX-shaped document the scan reads: CycloneDX JSON as it is, SPDX 2.3
 * JSON and SPDX 3.0.1 JSON-LD normalised (src/sbom-read/index.ts), the format detected from the content.
 */
export async function parseSbomText(text: string, file: string): Promise<Record<string, unknown>> {
  const read = await readSbom(text, file, 'SCAN_SBOM_INVALID', async (xml, version) =>
    (await import('../sbom/index.ts')).validateXml(xml, version),
  )
  return read.bom
}

/** Maximum number of paths from the root kept per component. */
export const MAX_PATHS = 5

/**
 * Reads the SBOM; each component's OSV ecosystem comes from its purl type through `ecosystems` (null
 * when no ecosystem and no OSV mapping knows the type: the scan then leaves it unchecked).
 */
export function toSbomInput(
  raw: unknown,
  file: string,
  ecosystems: EcosystemRegistry = defaultEcosystems,
): SbomInput {
  const fail = (why: string): never => {
    throw new InputError('SCAN_SBOM_INVALID', `not a CycloneDX JSON SBOM: ${why}`, { file })
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('expected a JSON object')
  const bom = raw as Record<string, unknown>
  if (bom.bomFormat !== 'CycloneDX') fail('"bomFormat" is not "CycloneDX"')
  if (typeof bom.specVersion !== 'string') fail('missing "specVersion"')
  const specProblem = specVersionProblem(bom.specVersion)
  if (specProblem) fail(specProblem)
  if (bom.components !== undefined && !Array.isArray(bom.components)) fail('"components" must be an array')
  if (bom.dependencies !== undefined && !Array.isArray(bom.dependencies))
    fail('"dependencies" must be an array')

  if (
    bom.metadata !== undefined &&
    (typeof bom.metadata !== 'object' || bom.metadata === null || Array.isArray(bom.metadata))
  )
    fail('"metadata" must be an object')
  const metadata = (bom.metadata ?? {}) as { component?: SbomComponentRaw }
  if (metadata.component !== undefined) checkComponent(metadata.component, '$.metadata.component', fail)
  const root = metadata.component
  const rootRef = root?.['bom-ref'] ?? null
  const rootName = root ? displayName(root) : '(root)'

  const flat: SbomComponentRaw[] = []
  const walk = (list: SbomComponentRaw[], at: string): void => {
    list.forEach((c, i) => {
      checkComponent(c, `${at}[${i}]`, fail)
      flat.push(c)
      if (c.components !== undefined) walk(c.components, `${at}[${i}].components`)
    })
  }
  walk((bom.components as SbomComponentRaw[] | undefined) ?? [], '$.components')

  const graph = new Map<string, string[]>()
  for (const d of (bom.dependencies as Array<{ ref?: unknown; dependsOn?: unknown }> | undefined) ?? []) {
    if (typeof d?.ref !== 'string') fail('a dependency has no "ref"')
    const deps = Array.isArray(d.dependsOn)
      ? d.dependsOn.filter((x): x is string => typeof x === 'string')
      : []
    graph.set(d.ref as string, [...deps].sort(compareCodePoint))
  }
  const nameByRef = new Map<string, string>()
  for (const c of flat) if (c['bom-ref']) nameByRef.set(c['bom-ref'], displayName(c))
  const paths = rootRef ? shortestPaths(rootRef, graph, nameByRef, rootName) : new Map<string, string[][]>()
  const direct = new Set(rootRef ? (graph.get(rootRef) ?? []) : [])

  const components: ScanComponent[] = []
  const unchecked: Array<{ ref: string; reason: string }> = []
  const seen = new Set<string>()
  for (const c of flat) {
    const ref = c['bom-ref'] ?? c.purl ?? displayName(c)
    if (c.purl === undefined) {
      // files, applications and the like without a package identity are not package dependencies
      if (c.type === 'file' || c.type === 'operating-system' || c.type === 'device') continue
      unchecked.push({ ref, reason: 'no purl' })
      continue
    }
    let purl: PackageURL
    try {
      purl = PackageURL.fromString(c.purl)
    } catch {
      unchecked.push({ ref: c.purl, reason: 'invalid purl' })
      continue
    }
    const version = purl.version ?? c.version
    if (!version) {
      unchecked.push({ ref: c.purl, reason: 'no version' })
      continue
    }
    const key = `${c.purl}\u0000${ref}`
    if (seen.has(key)) continue
    seen.add(key)
    // hostile SBOMs: properties that are not a list of objects are no properties
    const props = (Array.isArray(c.properties) ? c.properties : []).filter(
      (p): p is { name: string; value: string } => typeof p === 'object' && p !== null,
    )
    const installPaths = props
      .filter((p) => p.name === 'cdx:npm:package:path' && typeof p.value === 'string')
      .map((p) => p.value)
      .sort(compareCodePoint)
    // the ecosystem says how its names are spelled; by default the purl's namespace/name, exactly
    const fromPurl = purl.namespace ? `${purl.namespace}/${purl.name}` : purl.name
    const { name, exactName } = ecosystems
      .byPurlType(purl.type)
      ?.componentName?.(c, c.purl, installPaths, fromPurl) ?? { name: fromPurl, exactName: true }
    const dev =
      c.scope === 'excluded' ||
      props.some((p) => p.name === 'cdx:npm:package:development' && p.value === 'true')
    const go = purl.type === 'golang' ? toGoFacts(props) : undefined
    components.push({
      purl: c.purl,
      bomRef: ref,
      name,
      exactName,
      // the Go release: the SBOM's raw `go1.x.y` when it records one (the purl may write `1.x.y`)
      version: name === 'stdlib' && go?.version !== undefined ? go.version : version,
      ecosystem: ecosystems.osvEcosystemForPurlType(purl.type),
      dev,
      direct: direct.has(ref),
      installPaths,
      paths: paths.get(ref) ?? [],
      ...(go !== undefined ? { go } : {}),
    })
  }
  components.sort((a, b) => compareCodePoint(a.purl, b.purl) || compareCodePoint(a.bomRef, b.bomRef))
  unchecked.sort((a, b) => compareCodePoint(a.ref, b.ref))
  return { rootName, rootRef, components, unchecked, graph }
}

/**
 * The direct dependencies of the root (its `dependsOn` in the SBOM, which detbuild writes from the
 * manifest and the lock file) that pull a component in: every one from which the component is reachable
 * in the dependency graph, the component itself when it is one. A function over the SBOM, made once: the
 * reverse graph is built on the first call, each answer walks only the component's ancestors.
 */
export function toDirectsOf(input: SbomInput): (ref: string) => ScanComponent[] {
  const direct = new Set(input.rootRef === null ? [] : (input.graph.get(input.rootRef) ?? []))
  const byRef = new Map<string, ScanComponent>()
  for (const c of input.components) if (direct.has(c.bomRef) && !byRef.has(c.bomRef)) byRef.set(c.bomRef, c)
  let parents: Map<string, string[]> | null = null
  return (ref) => {
    if (direct.size === 0) return []
    if (parents === null) {
      parents = new Map()
      for (const [from, deps] of input.graph)
        for (const to of deps) {
          const list = parents.get(to)
          if (list) list.push(from)
          else parents.set(to, [from])
        }
    }
    const seen = new Set([ref])
    const queue = [ref]
    const out: ScanComponent[] = []
    for (let i = 0; i < queue.length; i++) {
      const at = queue[i]!
      const c = byRef.get(at)
      if (c) out.push(c)
      for (const p of parents.get(at) ?? [])
        if (p !== input.rootRef && !seen.has(p)) {
          seen.add(p)
          queue.push(p)
        }
    }
    return out
  }
}

/** The `detbuild:go:*` properties the scan reads (docs/go.md), or undefined when there are none. */
function toGoFacts(props: ReadonlyArray<{ name: string; value: string }>): GoFacts | undefined {
  const get = (n: string): string | undefined => {
    const v = props.find((p) => p.name === n)?.value
    return typeof v === 'string' && v !== '' ? v : undefined
  }
  const version = get('detbuild:go:version')
  const binary = get('detbuild:go:binary')
  const binarySha256 = get('detbuild:go:binary-sha256')
  const binaries = [
    ...new Set(
      props.filter((p) => p.name === 'detbuild:go:binary' && typeof p.value === 'string').map((p) => p.value),
    ),
  ].sort()
  const facts: GoFacts = {
    ...(binaries.length > 1 ? { binaries } : {}),
    ...(version !== undefined && /^go\d+\.\d+/.test(version) ? { version } : {}),
    ...(binary !== undefined ? { binary } : {}),
    ...(binarySha256 !== undefined ? { binarySha256: binarySha256.toLowerCase() } : {}),
  }
  return Object.keys(facts).length > 0 ? facts : undefined
}

/** The fields the scan reads have their CycloneDX types (a purl that is an array is bad input, not a crash). */
function checkComponent(c: unknown, at: string, fail: (why: string) => never): asserts c is SbomComponentRaw {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) fail(`${at} is not an object`)
  const record = c as Record<string, unknown>
  for (const key of ['bom-ref', 'purl', 'name', 'group', 'version', 'scope', 'type'])
    if (record[key] !== undefined && typeof record[key] !== 'string') fail(`${at}.${key} must be a string`)
  if (record.components !== undefined && !Array.isArray(record.components))
    fail(`${at}.components must be an array`)
}

function displayName(c: SbomComponentRaw): string {
  const name = c.name ?? c['bom-ref'] ?? '?'
  return c.group ? `${c.group}/${name}` : name
}

/**
 * Up to MAX_PATHS shortest paths from the root to every reachable ref, by breadth-first search over
 * the sorted graph, so the choice of paths is deterministic.
 */
function shortestPaths(
  rootRef: string,
  graph: Map<string, string[]>,
  nameByRef: Map<string, string>,
  rootName: string,
): Map<string, string[][]> {
  const out = new Map<string, string[][]>()
  const depth = new Map<string, number>([[rootRef, 0]])
  const refPaths = new Map<string, string[][]>([[rootRef, [[rootRef]]]])
  let frontier = [rootRef]
  while (frontier.length > 0) {
    const next: string[] = []
    for (const ref of frontier) {
      const d = depth.get(ref)!
      for (const child of graph.get(ref) ?? []) {
        const cd = depth.get(child)
        if (cd !== undefined && cd <= d) continue
        if (cd === undefined) {
          depth.set(child, d + 1)
          next.push(child)
          refPaths.set(child, [])
        }
        const list = refPaths.get(child)!
        for (const p of refPaths.get(ref)!) {
          if (list.length >= MAX_PATHS) break
          list.push([...p, child])
        }
      }
    }
    frontier = next
  }
  for (const [ref, list] of refPaths) {
    if (ref === rootRef) continue
    out.set(
      ref,
      list.map((p) => p.map((r, i) => (i === 0 ? rootName : (nameByRef.get(r) ?? r)))),
    )
  }
  return out
}
