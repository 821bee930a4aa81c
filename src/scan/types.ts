/** Data shapes of the scan step: OSV records in, findings and the vulns.json contract out. */
import type { ErrorCode } from '../errors.ts'

export const Severities = ['critical', 'high', 'medium', 'low', 'none', 'unknown'] as const
export type Severity = (typeof Severities)[number]

/** Severities ordered from least to most severe; `unknown` is handled apart (fail closed). */
export const SeverityRank: Readonly<Record<Severity, number>> = {
  none: 0,
  low: 1,
  medium: 2,
  high: 3,
  critical: 4,
  unknown: 5,
}

export interface OsvEvent {
  introduced?: string
  fixed?: string
  last_affected?: string
  limit?: string
}

export interface OsvRange {
  type: string
  repo?: string
  events: OsvEvent[]
}

export interface OsvAffected {
  package?: { ecosystem: string; name: string; purl?: string }
  ranges?: OsvRange[]
  versions?: string[]
  ecosystem_specific?: unknown
  database_specific?: unknown
}

export interface OsvRecord {
  id: string
  modified: string
  published?: string
  withdrawn?: string
  aliases?: string[]
  related?: string[]
  summary?: string
  details?: string
  severity?: Array<{ type: string; score: string }>
  affected?: OsvAffected[]
  references?: Array<{ type: string; url: string }>
  database_specific?: Record<string, unknown>
  schema_version?: string
}

/** One package of the SBOM to check. */
export interface ScanComponent {
  purl: string
  bomRef: string
  /** npm name as npm spells it: `@scope/name` or `name` */
  name: string
  /**
   * false when the SBOM gave the name only through a lowercased npm purl (the purl type's old rule),
   * so `JSONStream` and `jsonstream` cannot be told apart: matching then takes every spelling
   */
  exactName: boolean
  version: string
  /** OSV ecosystem derived from the purl type, or null when detbuild cannot map it */
  ecosystem: string | null
  dev: boolean
  direct: boolean
  /** install paths from `cdx:npm:package:path`, e.g. `node_modules/a/node_modules/b` */
  installPaths: string[]
  /** paths from the root, as package names, shortest first */
  paths: string[][]
  /** Go components: the `detbuild:go:*` properties the scan reads (absent for other ecosystems) */
  go?: GoFacts
}

/** The SBOM's `detbuild:go:*` properties of a Go component (contract: docs/go.md). */
export interface GoFacts {
  /** `detbuild:go:version`: the Go release (`go1.21.5`), on the `stdlib` component */
  version?: string
  /** `detbuild:go:binary`: the executable it was read from, relative to the project (POSIX) */
  binary?: string
  /** `detbuild:go:binary-sha256`: that executable's sha256 (hex) */
  binarySha256?: string
  /**
   * every executable when the component carries several `detbuild:go:binary` (one module shared by
   * several executables of one SBOM): no single executable's symbols can clear it, so it stays affected
   */
  binaries?: string[]
}

/** Reason codes of a Go finding's reachability analysis (docs/errors.md). */
export type GoReachCode =
  | 'GO_REACH_BINARY_DIGEST_MISMATCH'
  | 'GO_REACH_BINARY_MISMATCH'
  | 'GO_REACH_BINARY_MISSING'
  | 'GO_REACH_BINARY_UNREADABLE'
  | 'GO_REACH_NO_EVIDENCE'
  | 'GO_REACH_NO_SYMBOLS'
  | 'GO_REACH_PACKAGE_IMPORTED'
  | 'GO_REACH_SOURCE_INCOMPLETE'
  | 'GO_REACH_SYMBOL_PRESENT'
  | 'GO_REACH_TOOLCHAIN'

/**
 * Whether a finding's vulnerable code is in the program (Go: symbol-level reachability). `not_affected`
 * only on proof; `affected` with the reason `code` otherwise (analysed and present, or not analysable).
 */
export interface FindingAnalysis {
  state: 'affected' | 'not_affected'
  /** OpenVEX / CISA justification of a `not_affected` state */
  justification?: 'vulnerable_code_not_in_execute_path'
  /** what was compared: the executable's function names, the source's import graph, or nothing */
  method: 'binary' | 'source' | 'none'
  /** why the finding stays affected */
  code?: GoReachCode
  detail: string
  /** the vulnerable symbols (`pkg.T.M`) or packages found in the program */
  present?: string[]
}

export interface Suppression {
  reason: string
  until: string | null
  source: 'detbuild' | 'osv-scanner.toml'
}

export interface Rating {
  method: 'CVSSv2' | 'CVSSv3' | 'CVSSv31' | 'CVSSv4' | 'other'
  vector: string | null
  score: number | null
  severity: Severity
}

export interface Finding {
  id: string
  aliases: string[]
  summary: string
  purl: string
  bomRef: string
  name: string
  version: string
  severity: Severity
  score: number | null
  /** the CVSS vector or source the severity came from */
  severitySource: string
  ratings: Rating[]
  cwes: string[]
  fixed: string | null
  fixInRange: boolean | null
  direct: boolean
  dev: boolean
  paths: string[][]
  suppressed: Suppression | null
  references: string[]
  modified: string
  /** all OSV record ids merged into this finding */
  records: string[]
  /**
   * 1-based line of the package's entry in the project's lock file (`project.file` of the report), or
   * null when the lock file does not list it (or there is none)
   */
  line: number | null
  /**
   * Fix advice: the project's direct dependencies (from its manifest) that pull this package in, through
   * the SBOM's dependency graph, each the one to upgrade to be rid of it; sorted by name, then version
   */
  upgrade: Upgrade[]
  /** Go findings: symbol-level reachability; absent for ecosystems without it */
  analysis?: FindingAnalysis
}

/** One direct dependency to upgrade for a finding (see `Finding.upgrade`). */
export interface Upgrade {
  /** the direct dependency, as its ecosystem spells it */
  name: string
  /** its version now */
  version: string
  /**
   * the version of this direct dependency that fixes the finding: the fixed version when the direct
   * dependency is the vulnerable package itself; else null (which version of it brings the fix is not
   * in the SBOM or the lock file)
   */
  to: string | null
  /**
   * whether getting rid of the finding takes a MAJOR (breaking) bump of this direct dependency, in
   * npm's caret sense (0.x: the minor; 0.0.x: the patch): true / false when known, else null
   */
  major: boolean | null
}

/** Where the scan points its findings: the project folder and file, from the repository's root. */
export interface ScanLocation {
  /** the project folder relative to the repository root (git top level), POSIX; `.` at the root */
  projectPath: string
  /** the lock file (else the manifest) relative to the repository root, POSIX */
  file: string
}

export type SeverityCounts = Record<Severity, number>

export interface ScanSource {
  kind: 'api' | 'offline'
  url?: string
  export?: string
  /** offline: sha256 of the ZIP file, or of a folder's sorted relative names and file digests */
  exportSha256?: string
  /** offline: the export's usable records (distinct, not withdrawn) per ecosystem */
  records?: Record<string, number>
  /** latest `modified` of the OSV data used (offline: of every record in the export): the data's date */
  lastUpdate: string | null
  /** why the data could not answer for the SBOM (the scan is then incomplete) */
  problem?: { code: ScanSourceProblem; message: string }
}

/** Data problems that make a scan incomplete (exit 3) rather than clean. */
export const ScanSourceProblems = [
  'SCAN_EXPORT_NO_RECORDS',
  'SCAN_EXPORT_STALE',
] as const satisfies readonly ErrorCode[]
export type ScanSourceProblem = (typeof ScanSourceProblems)[number]

export interface ExpiredSuppression {
  id: string
  until: string
  source: Suppression['source']
}

export interface VulnsReport {
  schemaVersion: 1
  sbom: { file: string; sha256: string }
  source: ScanSource
  complete: boolean
  unchecked: string[]
  uncheckedReasons: Record<string, string>
  findings: Finding[]
  counts: SeverityCounts
  suppressedCount: number
  excludedDev: number
  expiredSuppressions: ExpiredSuppression[]
  componentsChecked: number
  /** where findings point (SARIF locations, annotations) */
  location: ScanLocation
}
