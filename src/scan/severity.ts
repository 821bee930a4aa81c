/**
 * Pure: severity of an OSV record from its CVSS vectors (scored with ae-cvss-calculator), else from
 * `database_specific.severity`, else `unknown`.
 */
import cvss from 'ae-cvss-calculator'
import type { OsvRecord, Rating, Severity } from './types.ts'

const { Cvss2, Cvss3P0, Cvss3P1, Cvss4P0 } = cvss

/** CVSS qualitative rating scale (v3.x and v4.0; v2 scores are mapped the same way). */
export function severityFromScore(score: number): Severity {
  if (score <= 0) return 'none'
  if (score < 4) return 'low'
  if (score < 7) return 'medium'
  if (score < 9) return 'high'
  return 'critical'
}

/**
 * Scores already worked out, by type and vector: the same vector recurs across records (one advisory
 * per affected range, aliases), and scoring is most of the time a scan spends turning matches into
 * findings. Bounded: a hostile export cannot grow it without limit.
 */
const scored = new Map<string, Rating | null>()
const MAX_SCORED = 10_000

/** Scores one vector; null when the vector is not one the calculator accepts. */
export function scoreVector(type: string, vector: string): Rating | null {
  const key = `${type}\u0000${vector}`
  const known = scored.get(key)
  if (known !== undefined) return known === null ? null : { ...known }
  const rating = scoreOnce(type, vector)
  if (scored.size >= MAX_SCORED) scored.clear()
  scored.set(key, rating)
  return rating === null ? null : { ...rating }
}

function scoreOnce(type: string, vector: string): Rating | null {
  try {
    let score: number | undefined
    let method: Rating['method']
    if (type === 'CVSS_V4' || vector.startsWith('CVSS:4.0/')) {
      score = new Cvss4P0(vector).calculateScores().base
      method = 'CVSSv4'
    } else if (vector.startsWith('CVSS:3.1/')) {
      score = new Cvss3P1(vector).calculateScores().base
      method = 'CVSSv31'
    } else if (vector.startsWith('CVSS:3.0/')) {
      score = new Cvss3P0(vector).calculateScores().base
      method = 'CVSSv3'
    } else if (type === 'CVSS_V2') {
      score = new Cvss2(vector).calculateScores().base
      method = 'CVSSv2'
    } else return null
    if (typeof score !== 'number' || !Number.isFinite(score)) return null
    return { method, vector, score, severity: severityFromScore(score) }
  } catch {
    return null
  }
}

const methodRank: Record<Rating['method'], number> = { CVSSv4: 4, CVSSv31: 3, CVSSv3: 2, CVSSv2: 1, other: 0 }

export interface RecordSeverity {
  severity: Severity
  score: number | null
  source: string
  ratings: Rating[]
}

/**
 * The newest CVSS version present wins (4.0 > 3.1 > 3.0 > 2.0): it is the one the advisory's authors
 * scored last. Without a usable vector, the database's own label is used (GitHub: LOW, MODERATE, HIGH,
 * CRITICAL).
 */
export function toRecordSeverity(record: OsvRecord): RecordSeverity {
  const ratings: Rating[] = []
  for (const s of record.severity ?? []) {
    if (typeof s?.score !== 'string') continue
    const r = scoreVector(s.type, s.score)
    if (r) ratings.push(r)
  }
  ratings.sort((a, b) => methodRank[b.method] - methodRank[a.method])
  const best = ratings[0]
  const label = databaseSeverity(record)
  if (label) ratings.push({ method: 'other', vector: null, score: null, severity: label })
  if (best) return { severity: best.severity, score: best.score, source: best.vector ?? best.method, ratings }
  if (label) return { severity: label, score: null, source: 'database_specific.severity', ratings }
  return { severity: 'unknown', score: null, source: 'none', ratings }
}

function databaseSeverity(record: OsvRecord): Severity | null {
  const raw = record.database_specific?.severity
  if (typeof raw !== 'string') return null
  switch (raw.toUpperCase()) {
    case 'CRITICAL':
      return 'critical'
    case 'HIGH':
      return 'high'
    case 'MODERATE':
    case 'MEDIUM':
      return 'medium'
    case 'LOW':
      return 'low'
    case 'NONE':
      return 'none'
    default:
      return null
  }
}
