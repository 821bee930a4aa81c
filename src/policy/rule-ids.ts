/**
 * Every rule id the evaluator can report. A policy exception names a rule (or a family: `sbom.ntia`), and a
 * misspelt id would silently waive nothing, so parse-policy.ts rejects ids that are not here (exit 2). A
 * test evaluates every section and checks that each reported id is listed.
 */
import { PROFILES } from './score.ts'
import { NTIA_ELEMENTS } from './types.ts'

export const RULE_IDS: readonly string[] = [
  'vulnerabilities.severity',
  'vulnerabilities.scan-complete',
  'licenses.allowed',
  'licenses.known',
  'packages.denied',
  'packages.registries',
  ...NTIA_ELEMENTS.map((e) => `sbom.ntia.${e}`),
  'sbom.hashes',
  ...Object.entries(PROFILES).flatMap(([name, elements]) => elements.map((e) => `sbom.${name}.${e.id}`)),
  'build.reproducible',
  'build.network-isolation',
  'build.sealed',
  'build.toolchain-pinned',
  'build.source-clean',
  'signing.provenance',
  'signing.artifacts',
  'exceptions.current',
  'exceptions.vex',
]

/** Whether `id` is a rule id or a family of them (a dotted prefix such as `sbom.ntia` or `build`). */
export function isKnownRule(id: string): boolean {
  return RULE_IDS.some((r) => r === id || r.startsWith(`${id}.`))
}
