/** Pure: package URLs for npm packages, as npm itself writes them (`npm sbom`), built with packageurl-js. */
import { PackageURL } from 'packageurl-js'
import type { InventoryNode } from '../inventory.ts'

export function splitName(name: string): { namespace: string | undefined; name: string } {
  if (name.startsWith('@')) {
    const slash = name.indexOf('/')
    if (slash > 0) return { namespace: name.slice(0, slash), name: name.slice(slash + 1) }
  }
  return { namespace: undefined, name }
}

/**
 * `pkg:npm/<scope>/<name>@<version>`; git dependencies carry their source as `vcs_url` (as npm does) and
 * tarballs from anywhere but a registry carry `download_url`.
 */
export function toPurl(node: Pick<InventoryNode, 'name' | 'version' | 'kind' | 'resolved'>): string {
  const { namespace, name } = splitName(node.name)
  const qualifiers: Record<string, string> = {}
  if (node.kind === 'git' && node.resolved) qualifiers.vcs_url = node.resolved
  if (node.kind === 'remote' && node.resolved) qualifiers.download_url = node.resolved
  return new PackageURL(
    'npm',
    namespace,
    name,
    node.version || undefined,
    Object.keys(qualifiers).length > 0 ? qualifiers : undefined,
    undefined,
  ).toString()
}

/** The canonical string of a purl (packageurl-js's own encoding), for comparing purls written by others. */
export function canonicalPurl(purl: string): string {
  return PackageURL.fromString(purl).toString()
}
