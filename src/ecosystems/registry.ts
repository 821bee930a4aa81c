/**
 * Pure: the set of ecosystems a run knows, looked up by id, by package-URL type and by OSV ecosystem
 * name. The default registry (index.ts) is frozen; tests and embedders make their own with
 * `createRegistry` and pass it to the SBOM and scan steps (`ecosystems` option).
 */
import { InternalError } from '../errors.ts'
import type { Ecosystem, VersionOrder } from './ecosystem.ts'

/** The ecosystems known to one run. */
export interface EcosystemRegistry {
  /** in registration order; the first is the default when no project is detected */
  readonly ecosystems: readonly Ecosystem[]
  byId(id: string): Ecosystem | undefined
  byPurlType(purlType: string): Ecosystem | undefined
  /** by OSV ecosystem name, compared the OSV way (`Debian:12` is `Debian`) */
  byOsvEcosystem(osvEcosystem: string): Ecosystem | undefined
  /**
   * The OSV ecosystem for a purl type: an adapter's, else one the OSV API matches on the server
   * (`serverMatched`); null when neither, and the component is then not checked (exit 3).
   */
  osvEcosystemForPurlType(purlType: string): string | null
  /**
   * The version order for an OSV ecosystem: its adapter's, else `fallbackOrder` (fix advice only, for
   * ecosystems the OSV API matched on the server: their findings do not depend on it).
   */
  versionsFor(osvEcosystem: string): VersionOrder
  /** Edge: the first ecosystem (in registration order) that detects `projectDir`, else the first one. */
  detect(projectDir: string): Promise<Ecosystem>
}

export interface RegistryOptions {
  /** purl type → OSV ecosystem name, for packages that only the OSV API can match (no adapter) */
  serverMatched?: Readonly<Record<string, string>>
  /** the order used for fix advice on server-matched ecosystems */
  fallbackOrder: VersionOrder
}

/** Ecosystem names compared the OSV way: the part before `:` (e.g. `Debian:12` → `Debian`). */
export function baseEcosystem(ecosystem: string): string {
  const i = ecosystem.indexOf(':')
  return i === -1 ? ecosystem : ecosystem.slice(0, i)
}

/**
 * Makes a registry. Two ecosystems with one id, purl type or OSV ecosystem would make lookups
 * ambiguous: that is a programming error (InternalError), found when the registry is made.
 */
export function createRegistry(list: readonly Ecosystem[], options: RegistryOptions): EcosystemRegistry {
  if (list.length === 0) throw new InternalError('ECOSYSTEM_REGISTRY_EMPTY', 'no ecosystem registered')
  const byId = new Map<string, Ecosystem>()
  const byPurl = new Map<string, Ecosystem>()
  const byOsv = new Map<string, Ecosystem>()
  for (const e of list) {
    for (const [map, key, what] of [
      [byId, e.id, 'id'],
      [byPurl, e.purlType, 'purl type'],
      [byOsv, e.osvEcosystem, 'OSV ecosystem'],
    ] as const) {
      if (map.has(key))
        throw new InternalError('ECOSYSTEM_DUPLICATE', `two ecosystems registered with ${what} "${key}"`)
      map.set(key, e)
    }
  }
  // an adapter replaces the server-only mapping of its purl type
  const serverMatched = new Map(Object.entries(options.serverMatched ?? {}).filter(([t]) => !byPurl.has(t)))
  const ecosystems = Object.freeze([...list])
  return Object.freeze({
    ecosystems,
    byId: (id: string) => byId.get(id),
    byPurlType: (purlType: string) => byPurl.get(purlType),
    byOsvEcosystem: (osvEcosystem: string) => byOsv.get(baseEcosystem(osvEcosystem)),
    osvEcosystemForPurlType: (purlType: string) =>
      byPurl.get(purlType)?.osvEcosystem ?? serverMatched.get(purlType) ?? null,
    versionsFor: (osvEcosystem: string) => byOsv.get(baseEcosystem(osvEcosystem)) ?? options.fallbackOrder,
    detect: async (projectDir: string) => {
      for (const e of ecosystems) if (await e.detect(projectDir)) return e
      // nothing detected: the default ecosystem's reader names the file it misses, as it always has
      return ecosystems[0]!
    },
  })
}
