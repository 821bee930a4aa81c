/**
 * Worker thread: compiles the CycloneDX JSON schema (the library's strict validator) as soon as it starts,
 * so that the expensive schema compilation runs on another core while the main thread loads the tree.
 */
import { parentPort, workerData } from 'node:worker_threads'
import * as CDX from '@cyclonedx/cyclonedx-library'
import { describeValidationError } from './validate-errors.ts'

const validator = new CDX.Validation.JsonStrictValidator(workerData.version as CDX.Spec.Version)
// a tiny document forces the compilation now; its result does not matter
const warm = validator.validate('{}').catch(() => null)

parentPort!.on('message', async (json: string) => {
  await warm
  try {
    const result = await validator.validate(json)
    parentPort!.postMessage(
      result === null ? { ok: true } : { ok: false, error: describeValidationError(result) },
    )
  } catch (e) {
    parentPort!.postMessage({ ok: 'skipped', reason: (e as Error).message })
  }
})
