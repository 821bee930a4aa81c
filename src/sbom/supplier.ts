/**
 * Pure: who supplied each component (CycloneDX `supplier`, `publisher`), from the package's own
 * manifest and, with `--supplier registry`, from what the package registry says.
 *
 * CycloneDX 1.6: `supplier` is the organization that supplied the component (the manufacturer, or a
 * distributor or repackager); `publisher` the person or organization that published it; `authors` /
 * `author` who created it. The NTIA minimum elements' "supplier name" is the entity that creates,
 * defines and identifies the component; like syft (its "originator" logic) detbuild names the
 * package's declared author as its supplier. Without an author, the registry account that published
 * the version (npm's `_npmUser`) supplies it. A component with neither is marked explicitly: property
 * `detbuild:supplier` = `unknown` (with a known one, the property names where it came from: `manifest`
 * or `registry`), so that the NTIA supplier rule can say why.
 */
import type { RegistryMetadata } from '../ecosystems/index.ts'
import type { Inventory, InventoryNode } from './model.ts'

/** Where `sbom` takes suppliers from (`--supplier`). */
export const SUPPLIER_SOURCES = ['manifest', 'registry', 'none'] as const
export type SupplierSource = (typeof SUPPLIER_SOURCES)[number]

/** The component property that records where a supplier came from, or that it is unknown. */
export const SUPPLIER_PROPERTY = 'detbuild:supplier'

/** One component's supplier facts, as both SBOM writers emit them. */
export interface SupplierFacts {
  supplier?: string | undefined
  /** how to reach the supplier (BSI TR-03183-2 "Component creator"): the author's e-mail and URL, when plain */
  contact?: SupplierContact | undefined
  publisher?: string | undefined
  source: 'manifest' | 'registry' | 'unknown'
}

/** Every node's facts, and the SBOM metadata properties that record how they were found. */
export interface SupplierPlan {
  byKey: ReadonlyMap<string, SupplierFacts>
  properties: ReadonlyArray<{ name: string; value: string }>
}

/** The most characters of a supplier or publisher name kept (a hostile manifest can hold megabytes). */
const MAX_NAME = 200

function clip(s: string): string | undefined {
  const t = s.trim()
  if (t === '') return undefined
  return t.length > MAX_NAME ? `${t.slice(0, MAX_NAME - 1)}…` : t
}

/** A person's name from npm's forms: `"Name <email> (url)"` or `{ name, email, url }`. */
export function personName(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const name = value.replace(/<[^>]*>|\([^)]*\)/g, ' ').replace(/\s+/g, ' ')
    return clip(name)
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as Record<string, unknown>
    if (typeof v.name === 'string') return clip(v.name)
  }
  return undefined
}

export interface SupplierContact {
  email?: string | undefined
  url?: string | undefined
}

/**
 * Only plain values are kept, so that both SBOM writers emit them unchanged: an e-mail of the usual
 * shape and an http(s) URL without characters either writer would escape or refuse.
 */
const PLAIN_EMAIL = /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}$/
const PLAIN_URL = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~/%-]*)?$/

/** A person's e-mail and URL from npm's forms: `"Name <email> (url)"` or `{ name, email, url }`. */
export function personContact(value: unknown): SupplierContact | undefined {
  let email: unknown
  let url: unknown
  if (typeof value === 'string') {
    email = /<([^>]*)>/.exec(value)?.[1]
    url = /\(([^)]*)\)/.exec(value)?.[1]
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    email = (value as Record<string, unknown>).email
    url = (value as Record<string, unknown>).url
  }
  const e = typeof email === 'string' && email.length <= 254 && PLAIN_EMAIL.test(email) ? email : undefined
  const u = typeof url === 'string' && url.length <= 2048 && PLAIN_URL.test(url) ? url : undefined
  return e === undefined && u === undefined ? undefined : { email: e, url: u }
}

/** `name@version`, the key registry metadata is kept under. */
export const registryKey = (n: { name: string; version: string }) => `${n.name}@${n.version}`

/**
 * The inventory with each registry package's manifest completed from the registry's: fields the
 * tree gave (the installed package.json, the lockfile entry) win; the registry fills the others.
 */
export function withRegistryManifests(inventory: Inventory, registry: RegistryMetadata): Inventory {
  const nodes = new Map<string, InventoryNode>()
  for (const [key, node] of inventory.nodes) {
    const facts = node.kind === 'registry' ? registry.byPackage.get(registryKey(node)) : undefined
    nodes.set(key, facts ? { ...node, manifest: { ...facts.manifest, ...node.manifest } } : node)
  }
  return { ...inventory, root: nodes.get(inventory.root.key)!, nodes }
}

/**
 * Every node's supplier facts: the author the tree gave (`manifest`), else the registry's author or
 * publishing account (`registry`, with `--supplier registry`), else `unknown`. `inventory` is the tree as
 * read, before {@link withRegistryManifests}.
 */
export function toSupplierPlan(inventory: Inventory, registry: RegistryMetadata | undefined): SupplierPlan {
  const byKey = new Map<string, SupplierFacts>()
  for (const [key, node] of inventory.nodes) {
    const facts = node.kind === 'registry' ? registry?.byPackage.get(registryKey(node)) : undefined
    const publisher = facts?.publisher === undefined ? undefined : clip(facts.publisher)
    const own = personName(node.manifest.author)
    const theirs = facts ? (personName(facts.manifest.author) ?? publisher) : undefined
    if (own !== undefined)
      byKey.set(key, {
        supplier: own,
        contact: personContact(node.manifest.author),
        publisher,
        source: 'manifest',
      })
    else if (theirs !== undefined)
      byKey.set(key, {
        supplier: theirs,
        // the contact of the registry's author, not of the publishing account
        contact:
          facts && personName(facts.manifest.author) ? personContact(facts.manifest.author) : undefined,
        publisher,
        source: 'registry',
      })
    else byKey.set(key, { source: 'unknown' })
  }
  const properties = registry
    ? [
        { name: 'detbuild:supplier:registry', value: registry.registry },
        { name: 'detbuild:supplier:registry-metadata', value: `sha256:${registry.digest}` },
      ]
    : []
  return { byKey, properties }
}
