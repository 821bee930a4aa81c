/** Schema validation with the CycloneDX library's validators (the official CycloneDX schemas). */
import { Worker } from 'node:worker_threads'
import * as CDX from '@cyclonedx/cyclonedx-library'
import type { SpecVersion } from './serialize.ts'
import { describeValidationError } from './validate-errors.ts'

export type ValidationOutcome =
  | { ok: true }
  | { ok: false; error: string }
  | { ok: 'skipped'; reason: string }

export interface JsonValidation {
  validate(json: string): Promise<ValidationOutcome>
  close(): Promise<void>
}

/**
 * Starts compiling the JSON schema in a worker thread right away; `validate` hands it the document.
 * Call it before the slow work that produces the document.
 */
export function startJsonValidation(version: SpecVersion): JsonValidation {
  const self = import.meta.url
  const file = new URL(self.endsWith('.ts') ? './validate-worker.ts' : './validate-worker.js', self)
  const worker = new Worker(file, { workerData: { version } })
  worker.unref()
  const failed = new Promise<ValidationOutcome>((resolve) => {
    worker.once('error', (e) => resolve({ ok: 'skipped', reason: `validator failed to start: ${e.message}` }))
  })
  return {
    validate(json) {
      const answer = new Promise<ValidationOutcome>((resolve) => worker.once('message', resolve))
      worker.postMessage(json)
      return Promise.race([answer, failed])
    },
    async close() {
      await worker.terminate()
    },
  }
}

export async function validateXml(xml: string, version: SpecVersion): Promise<ValidationOutcome> {
  try {
    const result = await new CDX.Validation.XmlValidator(version as CDX.Spec.Version).validate(xml)
    return result === null ? { ok: true } : { ok: false, error: describeValidationError(result.details) }
  } catch (e) {
    if (e instanceof CDX.Validation.MissingOptionalDependencyError) {
      return { ok: 'skipped', reason: 'XML schema validation needs the optional package libxmljs2' }
    }
    throw e
  }
}
