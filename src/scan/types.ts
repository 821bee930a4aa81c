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
}
