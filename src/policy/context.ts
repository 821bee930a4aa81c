/** What every rule reads: the policy, the input views, the exceptions in force and the clock. */
import type { ExceptionBook } from './exceptions.ts'
import type { Obj, SbomView, VulnsView } from './model.ts'
import type { InputFile, Policy, SignatureTrust } from './types.ts'

export interface RuleContext {
  policy: Policy
  sbom: SbomView
  vulns: VulnsView | undefined
  build: { file: InputFile; data: Obj } | undefined
  signatures: { file: InputFile; data: Obj } | undefined
  /** sha256 of workspace files (null: absent) */
  files: Record<string, string | null>
  /** bytes of the bundles and signed files (PolicyInputs.signedFiles) */
  signedFiles: ReadonlyMap<string, Uint8Array> | undefined
  /** how to verify signature bundles; undefined: no trust material was given */
  trust: SignatureTrust | undefined
  book: ExceptionBook
  now: Date
}
