/**
 * Pure: whether the scan can check a component, by its ecosystem. Fail closed: a component no
 * ecosystem can match is unchecked (the scan is then incomplete, exit 3), never silently clean.
 */
import type { EcosystemRegistry } from '../ecosystems/index.ts'
import type { ScanComponent } from './types.ts'

/**
 * Why `c` cannot be checked, or null when it can. Offline, only ecosystems with an adapter match
 * (the API also matches the server-matched ones, on the server); an adapter checks the version first.
 */
export function uncheckableReason(
  c: Pick<ScanComponent, 'ecosystem' | 'version'>,
  ecosystems: EcosystemRegistry,
  offline: boolean,
): string | null {
  if (c.ecosystem === null) return 'package type not supported by OSV matching'
  const adapter = ecosystems.byOsvEcosystem(c.ecosystem)
  if (adapter === undefined) {
    if (!offline) return null
    const ids = ecosystems.ecosystems.map((e) => e.id).join(', ')
    return `offline matching supports ${ids} packages only`
  }
  if (!adapter.isValidVersion(c.version)) return `version "${c.version}" is not a ${adapter.scheme} version`
  return null
}
