/** Pure: an inventory selection → a CycloneDX BOM model (@cyclonedx/cyclonedx-library). */

import { createRequire } from 'node:module'
import * as CDX from '@cyclonedx/cyclonedx-library'
import type { Ecosystem } from '../ecosystems/index.ts'
import { sriToHex } from '../util/digest.ts'
import { compareCodePoint, uniqueSorted } from '../util/sort.ts'
import {
  bsiProperties,
  dependencyCompositions,
  type LifecyclePhase,
  type SbomAuthor,
} from './completeness.ts'
import type { Inventory, InventoryNode } from './model.ts'
import { nestedLayout } from './nested.ts'
import type { Selection } from './select.ts'
import type { Compositions } from './serialize.ts'
import { SUPPLIER_PROPERTY, type SupplierFacts, type SupplierPlan } from './supplier.ts'
import { toolBomRef, uniqueProperties } from './write-json.ts'

const { Models, Enums } = CDX
type Component = CDX.Models.Component

export interface BomOptions {
  /** SBOM timestamp (from SOURCE_DATE_EPOCH) */
  timestamp: Date
  tool: { name: string; version: string }
  /** the package URL of a node: the ecosystem's (also each component's bom-ref) */
  toPurl: Ecosystem['toPurl']
  /** each component's supplier, publisher and `detbuild:supplier` property; none without */
  suppliers?: SupplierPlan | undefined
  /** `metadata.lifecycles` (1.5+; completeness.ts lifecycleOf); default `build` */
  lifecycle?: LifecyclePhase | undefined
  /** `metadata.authors` (completeness.ts SbomAuthor); none without */
  author?: SbomAuthor | undefined
}

const HASH_ALGORITHMS: Record<string, CDX.Enums.HashAlgorithm> = {
  sha1: Enums.HashAlgorithm['SHA-1'],
  sha256: Enums.HashAlgorithm['SHA-256'],
  sha384: Enums.HashAlgorithm['SHA-384'],
  sha512: Enums.HashAlgorithm['SHA-512'],
}

const extRefFactory = new CDX.Contrib.FromNodePackageJson.Factories.ExternalReferenceFactory()
// spdx-expression-parse throws on anything that is not a valid SPDX expression: the library's licence
// factory then records the licence as a name instead
const parseSpdx = createRequire(import.meta.url)('spdx-expression-parse') as (expression: string) => unknown
const licenseFactory = new CDX.Contrib.License.Factories.LicenseFactory((expression: string) => {
  parseSpdx(expression)
})
const componentBuilder = new CDX.Contrib.FromNodePackageJson.Builders.ComponentBuilder(
  extRefFactory,
  licenseFactory,
)

/** Several install paths of one name@version become one component: merged here. */
interface Group {
  purl: string
  nodes: InventoryNode[]
}

function groupByPurl(nodes: Iterable<InventoryNode>, toPurl: Ecosystem['toPurl']): Map<string, Group> {
  const groups = new Map<string, Group>()
  for (const n of nodes) {
    const purl = n.purl ?? toPurl(n)
    const g = groups.get(purl)
    if (g) g.nodes.push(n)
    else groups.set(purl, { purl, nodes: [n] })
  }
  return groups
}

function makeComponent(
  group: Group,
  type: CDX.Enums.ComponentType,
  suppliers: SupplierPlan | undefined,
): Component {
  // the node with the richest manifest describes the group; all share name and version
  const nodes = [...group.nodes].sort((a, b) => compareCodePoint(a.location, b.location))
  const first = nodes[0]!
  // a node another ecosystem read (Go) carries its own name and properties, none of npm's
  if (first.ecosystem !== undefined && first.ecosystem !== 'npm')
    return foreignComponent(group, nodes, type, suppliers)
  const withDist =
    first.resolved && (first.kind === 'registry' || first.kind === 'remote')
      ? { dist: { tarball: first.resolved, integrity: first.integrity } }
      : {}
  const manifest = { ...first.manifest, ...withDist, name: first.name, version: first.version }
  const component =
    componentBuilder.makeComponent(manifest as never, type) ??
    new Models.Component(type, first.name, { version: first.version })
  component.bomRef.value = group.purl
  component.purl = group.purl as never
  if (first.integrity) {
    for (const [alg, hex] of sriToHex(first.integrity)) {
      const algorithm = HASH_ALGORITHMS[alg]
      if (algorithm) component.hashes.set(algorithm, hex)
    }
  }
  const all = (f: (n: InventoryNode) => boolean) => nodes.every(f)
  const dev = all((n) => n.dev)
  const optional = all((n) => n.optional || n.devOptional)
  if (first.kind !== 'root') {
    component.scope = dev
      ? Enums.ComponentScope.Excluded
      : optional
        ? Enums.ComponentScope.Optional
        : Enums.ComponentScope.Required
  }
  const props = component.properties
  const flag = (name: string, on: boolean) => {
    if (on) props.add(new Models.Property(`cdx:npm:package:${name}`, 'true'))
  }
  flag('development', dev)
  flag(
    'extraneous',
    all((n) => n.extraneous),
  )
  flag(
    'bundled',
    all((n) => n.bundled),
  )
  flag('private', first.manifest.private === true)
  const paths = uniqueSorted(nodes.flatMap((n) => [n.location, ...(n.linkedFrom ?? [])]))
  for (const p of paths) props.add(new Models.Property('cdx:npm:package:path', p))
  for (const p of bsiProperties(first)) props.add(new Models.Property(p.name, p.value))
  const supplied = suppliers?.byKey.get(first.key)
  if (supplied) {
    props.add(new Models.Property(SUPPLIER_PROPERTY, supplied.source))
    if (supplied.supplier) component.supplier = supplierEntity(supplied)
    if (supplied.publisher) component.publisher = supplied.publisher
  }
  return component
}

/** The supplier entity: its name and, when plain (supplier.ts personContact), the author's URL and e-mail. */
function supplierEntity(s: SupplierFacts): CDX.Models.OrganizationalEntity {
  const entity = new Models.OrganizationalEntity({ name: s.supplier })
  if (s.contact?.url) entity.url.add(s.contact.url)
  if (s.contact?.email) entity.contact.add(new Models.OrganizationalContact({ email: s.contact.email }))
  return entity
}

/** A component of a node another ecosystem read: its name, version, purl, scope and own properties only. */
function foreignComponent(
  group: Group,
  nodes: InventoryNode[],
  type: CDX.Enums.ComponentType,
  suppliers: SupplierPlan | undefined,
): Component {
  const first = nodes[0]!
  const component = new Models.Component(type, first.name, {
    version: first.version || undefined,
    bomRef: group.purl,
  })
  component.purl = group.purl as never
  if (first.kind !== 'root') component.scope = Enums.ComponentScope.Required
  for (const p of uniqueProperties(nodes)) component.properties.add(new Models.Property(p.name, p.value))
  const supplied = suppliers?.byKey.get(first.key)
  if (supplied) {
    component.properties.add(new Models.Property(SUPPLIER_PROPERTY, supplied.source))
    if (supplied.supplier) component.supplier = supplierEntity(supplied)
    if (supplied.publisher) component.publisher = supplied.publisher
  }
  return component
}

export interface BuiltBom {
  bom: CDX.Models.Bom
  componentCount: number
  /** what the library's model cannot hold: the SBOM's `compositions` (serialize.ts writes them) */
  compositions: Compositions | undefined
}

/** Builds the BOM: every selected package once (bom-ref = purl), the full dependency graph, metadata. */
export function toBom(inventory: Inventory, selection: Selection, options: BomOptions): BuiltBom {
  const included = [...selection.included].map((k) => inventory.nodes.get(k)!)
  const groups = groupByPurl(included, options.toPurl)
  const rootPurl = selection.root.purl ?? options.toPurl({ ...selection.root, kind: 'registry' })
  // the root is described once, in metadata, even if a package of the same name@version is installed
  groups.delete(rootPurl)

  const byKey = new Map<string, Component>()
  const bom = new Models.Bom()
  // components nested in a component, by the parent node's key (nested.ts), with their edges
  const nestedByKey = new Map<string, Map<string, Component>>()
  const edges = new Map<Component, Set<Component>>()
  let nestedCount = 0
  // refs whose dependency list lost an edge (omitted or missing dependencies), and nested refs
  const dropped = new Set<Component>()
  const nestedAll: string[] = []
  const addNested = (c: Component, group: Group) => {
    if (!group.nodes.some((n) => n.nested !== undefined && n.nested.length > 0)) return
    const layout = nestedLayout(group.nodes, group.purl, options.toPurl)
    const byRef = new Map<string, Component>()
    for (const g of layout.groups) {
      const inner = makeComponent({ purl: g.purl, nodes: g.nodes }, Enums.ComponentType.Library, undefined)
      inner.bomRef.value = g.ref
      nestedAll.push(g.ref)
      byRef.set(g.ref, inner)
      c.components.add(inner)
    }
    for (const [ref, tos] of layout.edges)
      edges.set(byRef.get(ref)!, new Set([...tos].map((t) => byRef.get(t)!)))
    const local = new Map([...layout.refOf].map(([k, ref]) => [k, byRef.get(ref)!]))
    for (const n of group.nodes) nestedByKey.set(n.key, local)
    nestedCount += layout.groups.length
  }
  for (const group of groups.values()) {
    const isWorkspace = group.nodes.some((n) => n.kind === 'workspace' || n.application === true)
    const c = makeComponent(
      group,
      isWorkspace ? Enums.ComponentType.Application : Enums.ComponentType.Library,
      options.suppliers,
    )
    if (isWorkspace) c.scope = Enums.ComponentScope.Required
    addNested(c, group)
    bom.components.add(c)
    for (const n of group.nodes) byKey.set(n.key, c)
  }
  const rootGroup = { purl: rootPurl, nodes: [selection.root] }
  const rootComponent = makeComponent(rootGroup, Enums.ComponentType.Application, options.suppliers)
  addNested(rootComponent, rootGroup)
  byKey.set(selection.root.key, rootComponent)

  // edges: union over every install path of a component, no self-edges, no duplicates
  for (const n of [selection.root, ...included]) {
    const from = byKey.get(n.key)
    if (!from) continue
    const set = edges.get(from) ?? new Set<Component>()
    const local = nestedByKey.get(n.key)
    for (const k of n.deps) {
      const inner = local?.get(k)
      if (inner) {
        set.add(inner)
        continue
      }
      const to = byKey.get(k)
      if (to && to !== from && (selection.included.has(k) || k === selection.root.key)) set.add(to)
      else if (!to) dropped.add(from)
    }
    edges.set(from, set)
  }
  for (const [from, tos] of edges) for (const to of tos) from.dependencies.add(to.bomRef)

  bom.metadata.timestamp = options.timestamp
  bom.metadata.component = rootComponent
  bom.metadata.lifecycles.add((options.lifecycle ?? 'build') as CDX.Enums.LifecyclePhase)
  bom.metadata.tools.components.add(
    new Models.Component(Enums.ComponentType.Application, options.tool.name, {
      version: options.tool.version,
      bomRef: toolBomRef(options.tool, (ref) => ref === rootPurl || groups.has(ref)),
    }),
  )
  if (options.author)
    bom.metadata.authors.add(
      new Models.OrganizationalContact({ name: options.author.name, email: options.author.email }),
    )
  bom.metadata.properties.add(new Models.Property('cdx:reproducible', 'true'))
  for (const p of options.suppliers?.properties ?? [])
    bom.metadata.properties.add(new Models.Property(p.name, p.value))
  const refOf = new Map([...byKey].map(([k, c]) => [k, c.bomRef.value ?? '']))
  return {
    bom,
    componentCount: groups.size + nestedCount,
    compositions: dependencyCompositions(
      inventory,
      refOf,
      new Set([...dropped].map((c) => c.bomRef.value ?? '')),
      nestedAll,
    ),
  }
}
