/**
 * The Action's stand-in for src/sbom/validate.ts (swapped in by scripts/build-action.ts): the same API,
 * but the JSON schema is compiled on the main thread. The bundled action is one file, so there is no
 * worker file to start; the CycloneDX schemas themselves are embedded in the bundle.
 */
import * as CDX from '@cyclonedx/cyclonedx-library'
import type { SpecVersion } from './spec.ts'
import type { JsonValidation, ValidationOutcome } from './validate.ts'
import { describeValidationError } from './validate-errors.ts'

export type { JsonValidation, ValidationOutcome } from './validate.ts'
export { validateXml } from './validate.ts'

export function startJsonValidation(version: SpecVersion): JsonValidation {
  const validator = new CDX.Validation.JsonStrictValidator(version as CDX.Spec.Version)
  return {
    async validate(json): Promise<ValidationOutcome> {
      try {
        const result = await validator.validate(json)
        return result === null ? { ok: true } : { ok: false, error: describeValidationError(result.details) }
      } catch (e) {
        return { ok: 'skipped', reason: (e as Error).message }
      }
    },
    async close() {},
  }
}
