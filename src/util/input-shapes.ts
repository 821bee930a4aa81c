/** Pure: which CycloneDX `specVersion`s detbuild reads (the npm input shapes live in ecosystems/npm/); in util/ so that reading an SBOM does not load the SBOM writer. */
import { describeJsonType } from './json-parse.ts'

/** The CycloneDX versions detbuild reads (the ones it writes and validates against). */
export const READABLE_SPEC_VERSIONS = ['1.4', '1.5', '1.6', '1.7'] as const

/** Why an SBOM's `specVersion` cannot be read, or undefined when it can. */
export function specVersionProblem(value: unknown): string | undefined {
  if ((READABLE_SPEC_VERSIONS as readonly unknown[]).includes(value)) return undefined
  return `specVersion must be one of ${READABLE_SPEC_VERSIONS.join(', ')}, not ${typeof value === 'string' ? JSON.stringify(value) : describeJsonType(value)}`
}
