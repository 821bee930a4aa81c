/**
 * Pure: package URLs of Go modules, `pkg:golang/<module path>@<version>`, built with packageurl-js: the
 * namespace is the path up to its last `/`, the name the last element, letter case kept (module paths
 * are case-sensitive; Syft writes them so), each segment percent-encoded as the purl spec says. The Go
 * release is `pkg:golang/stdlib@<version without "go">`, as Syft writes it.
 */
import { PackageURL } from 'packageurl-js'

/** `pkg:golang/<path>@<version>`; a module without a version (a local directory replacement) has none. */
export function goModulePurl(modulePath: string, version: string | undefined): string {
  const slash = modulePath.lastIndexOf('/')
  const namespace = slash === -1 ? undefined : modulePath.slice(0, slash)
  const name = slash === -1 ? modulePath : modulePath.slice(slash + 1)
  return new PackageURL('golang', namespace, name, version || undefined, undefined, undefined).toString()
}

/** The Go release's purl: `go1.22.1` → `pkg:golang/stdlib@1.22.1`. */
export function stdlibPurl(goVersion: string): string {
  return goModulePurl('stdlib', goVersion.replace(/^go/, ''))
}

/** The adapter's `toPurl`: the node's own purl when its reader set one, else from its name and version. */
export function toPurl(node: { name: string; version: string; purl?: string }): string {
  return node.purl ?? goModulePurl(node.name, node.version)
}
