/** What every rule reads: the policy, the input views, the exceptions in force and the clock. */
import type { ExceptionBook } from './exceptions.ts'
import type { Obj, SbomView, VulnsView } from './model.ts'
import type { InputFile, Policy } from './types.ts'

export interface RuleContext {
  policy: Policy
  sbom: SbomView
  vulns: VulnsView | undefined
  build: { file: InputFile; data: Obj } | undefined
  signatures: { file: InputFile; data: Obj } | undefined
  /** sha256 of workspace files (null: absent) */
  files: Record<string, string | null>
  book: ExceptionBook
  now: Date
}
