/** The data a run produces: one record per step and the summary facts. Data only. */
import type { ErrorCode, ExitCode } from '../errors.ts'
import type { Upgrade } from '../scan/index.ts'
import type { LeftOutStep, StepName } from './steps.ts'

export type StepStatus = 'ok' | 'failed' | 'skipped' | 'not-run'

export interface StepError {
  code: ErrorCode
  message: string
  file?: string
}

export interface ArtifactFact {
  /** workspace-relative POSIX path, e.g. `artifacts/pkg-1.0.0.tgz` */
  path: string
  size: number
  sha256: string
}

export interface FindingFact {
  id: string
  severity: string
  name: string
  version: string
  purl: string
  fixed: string | null
  summary: string
  suppressed: boolean
  dev: boolean
  /** at or above the scan's fail-on threshold */
  failing: boolean
  /** 1-based line of the package's entry in the scan's `file` (the lock file), or null */
  line: number | null
  /** the direct dependencies to upgrade (vulns.json `upgrade`) */
  upgrade: Upgrade[]
}

export interface RuleFact {
  id: string
  title: string
  status: 'fail' | 'warn'
  summary: string
}

export interface SignatureFact {
  file: string
  kind: 'dsse' | 'message'
  subject: string
  signer: string
}

/** What each step contributes to the summary (absent when the step did not run). */
export interface RunFacts {
  build?: {
    artifacts: ArtifactFact[]
    reproducible: boolean | null
    /** with check: the one-line verdict ("reproducible under N variations; not varied: …") */
    verdict: string | null
    network: string
    /** the commands ran in the sealed build room, and how (bwrap, unshare, none) */
    sealed: boolean
    mechanism: string
    sourceDateEpoch: number | null
  }
  sbom?: {
    file: string
    components: number
    dependencyEdges: number
    specVersion: string
    validated: boolean
  }
  scan?: {
    source: string
    complete: boolean
    unchecked: number
    counts: Record<string, number>
    open: number
    suppressed: number
    failOn: string | null
    /** the lock file (else the manifest) findings point at, from the repository's top folder */
    file: string
    /** worst first */
    findings: FindingFact[]
  }
  policy?: {
    name: string
    verdict: 'pass' | 'warn' | 'fail'
    counts: Record<string, number>
    rules: RuleFact[]
    /** signing rules not evaluated yet (the run had not signed); absent once the whole policy ran */
    deferred?: string[]
  }
  sign?: {
    mode: 'keyless' | 'key'
    signatures: SignatureFact[]
  }
  evidence?: {
    file: string
    sha256: string | null
  }
  verify?: {
    verified: boolean
    /** artifacts the evidence was verified for */
    artifacts: number
  }
}

export interface StepRecord {
  name: StepName
  status: StepStatus
  exitCode: ExitCode
  /** one line about the outcome */
  detail: string
  error?: StepError
}

export interface RunReport {
  schemaVersion: 1
  exitCode: ExitCode
  /** the first step that failed, null when all passed */
  failedStep: StepName | null
  /** the workspace, relative to the project (POSIX) */
  workspace: string
  steps: StepRecord[]
  /** the pipeline's steps this run left out on purpose, and why (not failures) */
  notSelected: LeftOutStep[]
  facts: RunFacts
}
