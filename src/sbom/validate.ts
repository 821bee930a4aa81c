/** Schema validation with the CycloneDX library's validators (official CycloneDX schemas). */
import * as CDX from '@cyclonedx/cyclonedx-library'
import type { SpecVersion } from './serialize.ts'

export type ValidationOutcome =
  | { ok: true }
  | { ok: false; error: string }
  | { ok: 'skipped'; reason: string }

function firstError(details: unknown): string {
  if (Array.isArray(details) && details.length > 0) {
    const d = details[0] as { instancePath?: string; message?: string; params?: unknown; line?: number }
    if (d.instancePath !== undefined) {
      return `${d.instancePath || '/'}: ${d.message ?? 'invalid'}${d.params ? ` ${JSON.stringify(d.params)}` : ''}`
    }
    if (d.message) return `${d.line !== undefined ? `line ${d.line}: ` : ''}${d.message.trim()}`
  }
  return JSON.stringify(details)
}

function isMissingDependency(e: unknown): boolean {
  return e instanceof CDX.Validation.MissingOptionalDependencyError
}

export async function validateJson(json: string, version: SpecVersion): Promise<ValidationOutcome> {
  try {
    const result = await new CDX.Validation.JsonStrictValidator(version as CDX.Spec.Version).validate(json)
    return result === null ? { ok: true } : { ok: false, error: firstError(result.details) }
  } catch (e) {
    if (isMissingDependency(e)) return { ok: 'skipped', reason: (e as Error).message }
    throw e
  }
}

export async function validateXml(xml: string, version: SpecVersion): Promise<ValidationOutcome> {
  try {
    const result = await new CDX.Validation.XmlValidator(version as CDX.Spec.Version).validate(xml)
    return result === null ? { ok: true } : { ok: false, error: firstError(result.details) }
  } catch (e) {
    if (isMissingDependency(e))
      return { ok: 'skipped', reason: 'XML schema validation needs the optional package libxmljs2' }
    throw e
  }
}
