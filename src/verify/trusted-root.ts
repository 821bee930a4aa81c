/**
 * Trusted root (`trusted_root.json`) → the library's TrustedRoot, after checks the library skips.
 *
 * The sigstore TimeRange message requires `start` (only `end` is optional). @sigstore/verify reads a
 * missing start as "since the beginning of time", which silently widens trust: a key whose validity
 * was cut at the front would be accepted for any earlier signature. We reject such a root instead
 * (conformance case `trust-root-tlog-missing-validity-start_fail`).
 */
import { TrustedRoot } from '@sigstore/protobuf-specs'
import { type ErrorCode, InputError } from '../errors.ts'

const CODE: ErrorCode = 'VERIFY_TRUSTED_ROOT_INVALID'

/**
 * A trusted root that trusts nothing: what a key-signed bundle needs when no transparency-log entry is
 * required (the key is the whole trust; no certificate authority, log or timestamp authority is asked).
 */
export const EMPTY_TRUSTED_ROOT = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  ctlogs: [],
  certificateAuthorities: [],
  timestampAuthorities: [],
} as const
const MEDIA_TYPE_PREFIX = 'application/vnd.dev.sigstore.trustedroot'

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Problems in a parsed trusted root (empty when it is usable). Pure. */
export function checkTrustedRoot(json: unknown): string[] {
  const problems: string[] = []
  if (!isObject(json)) return ['not a JSON object']
  if (typeof json.mediaType !== 'string' || !json.mediaType.startsWith(MEDIA_TYPE_PREFIX))
    problems.push(`mediaType must start with ${MEDIA_TYPE_PREFIX}`)
  const checkRange = (where: string, range: unknown): void => {
    if (range === undefined || range === null) return
    if (!isObject(range)) {
      problems.push(`${where}.validFor is not an object`)
      return
    }
    const start = range.start
    if (typeof start !== 'string' || Number.isNaN(Date.parse(start))) {
      problems.push(`${where}.validFor.start is missing or not a timestamp (it is required)`)
      return
    }
    if (range.end !== undefined && range.end !== null) {
      if (typeof range.end !== 'string' || Number.isNaN(Date.parse(range.end)))
        problems.push(`${where}.validFor.end is not a timestamp`)
      else if (Date.parse(range.end) < Date.parse(start))
        problems.push(`${where}.validFor ends before it starts`)
    }
  }
  for (const kind of ['tlogs', 'ctlogs'] as const) {
    const list = json[kind]
    if (list === undefined) continue
    if (!Array.isArray(list)) {
      problems.push(`${kind} is not an array`)
      continue
    }
    list.forEach((log, i) => {
      const where = `${kind}[${i}]`
      if (!isObject(log) || !isObject(log.publicKey) || typeof log.publicKey.rawBytes !== 'string') {
        problems.push(`${where}.publicKey.rawBytes is missing`)
        return
      }
      if (!isObject(log.logId) || typeof log.logId.keyId !== 'string')
        problems.push(`${where}.logId.keyId is missing`)
      checkRange(`${where}.publicKey`, log.publicKey.validFor)
    })
  }
  for (const kind of ['certificateAuthorities', 'timestampAuthorities'] as const) {
    const list = json[kind]
    if (list === undefined) continue
    if (!Array.isArray(list)) {
      problems.push(`${kind} is not an array`)
      continue
    }
    list.forEach((ca, i) => {
      const where = `${kind}[${i}]`
      if (!isObject(ca) || !isObject(ca.certChain) || !Array.isArray(ca.certChain.certificates)) {
        problems.push(`${where}.certChain.certificates is missing`)
        return
      }
      checkRange(where, ca.validFor)
    })
  }
  return problems
}

/** Checks and converts a parsed trusted root; InputError (exit 2) naming the file when malformed. */
export function toTrustedRoot(json: unknown, file: string): TrustedRoot {
  const problems = checkTrustedRoot(json)
  if (problems.length > 0)
    throw new InputError(CODE, `invalid trusted root: ${problems.join('; ')}`, {
      file,
      details: { problems },
    })
  try {
    return TrustedRoot.fromJSON(json)
  } catch (e) {
    throw new InputError(CODE, `invalid trusted root: ${e instanceof Error ? e.message : String(e)}`, {
      file,
      cause: e,
    })
  }
}
