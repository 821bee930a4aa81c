/** Schema validation with the CycloneDX library's validators (the official CycloneDX schemas). */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import * as CDX from '@cyclonedx/cyclonedx-library'
import type { SpecVersion } from './spec.ts'
import { describeValidationError } from './validate-errors.ts'

const require = createRequire(import.meta.url)

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

/**
 * XML: the library's validator when its optional native package libxmljs2 is installed; otherwise the
 * same official XSD (shipped inside the library) checked by libxml2 compiled to WebAssembly (xmllint-wasm),
 * so validation needs no native build.
 */
export async function validateXml(
  xml: string,
  version: SpecVersion,
  engine: 'auto' | 'wasm' = 'auto',
): Promise<ValidationOutcome> {
  if (engine === 'auto') {
    try {
      const result = await new CDX.Validation.XmlValidator(version as CDX.Spec.Version).validate(xml)
      return result === null ? { ok: true } : { ok: false, error: describeValidationError(result) }
    } catch (e) {
      if (!(e instanceof CDX.Validation.MissingOptionalDependencyError)) throw e
    }
  }
  const schemaDir = path.join(
    path.dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')),
    'res',
    'schema',
  )
  const [bom, spdx] = await Promise.all([
    readFile(path.join(schemaDir, `bom-${version}.SNAPSHOT.xsd`), 'utf8'),
    readFile(path.join(schemaDir, 'spdx.SNAPSHOT.xsd'), 'utf8'),
  ])
  const { validateXML } = await import('xmllint-wasm')
  const result = await validateXML({
    xml: [{ fileName: 'sbom.cdx.xml', contents: xml }],
    schema: [{ fileName: `bom-${version}.SNAPSHOT.xsd`, contents: bom }],
    preload: [{ fileName: 'spdx.SNAPSHOT.xsd', contents: spdx }],
    maxMemoryPages: 16384,
  })
  if (result.valid) return { ok: true }
  const first = result.errors[0]
  return {
    ok: false,
    error: first ? `line ${first.loc?.lineNumber ?? '?'}: ${first.message.trim()}` : result.rawOutput,
  }
}
