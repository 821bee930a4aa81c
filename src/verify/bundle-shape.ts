/**
 * Pure: the exact JSON shape of a sigstore bundle, checked before `bundleFromJSON` sees it.
 *
 * The generated protobuf readers are lenient: they coerce (`String(["x"])` is `"x"`), decode any text as
 * base64 and drop what they do not know. A bundle whose bytes differ from what was signed could then be
 * read as the signed one (an array `payloadType` verifies like the string it prints as). So every field
 * detbuild's verifier reads must have its protobuf-JSON type exactly, `oneof` alternatives are exclusive,
 * and a field the schema does not name is refused: a verifier rejects on any doubt.
 */

type Shape =
  | 'string'
  | 'bytes'
  | 'int64'
  | 'enum'
  | { list: Shape }
  | { fields: Record<string, Shape>; oneOf?: string[][]; nullable?: boolean }

const message = (fields: Record<string, Shape>, oneOf?: string[][]): Shape => ({
  fields,
  ...(oneOf ? { oneOf } : {}),
  // proto3 JSON: null for a message field means absent (npm's v0.1 bundles write `"inclusionProof": null`)
  nullable: true,
})

const TLOG_ENTRY = message({
  logIndex: 'int64',
  logId: message({ keyId: 'bytes' }),
  kindVersion: message({ kind: 'string', version: 'string' }),
  integratedTime: 'int64',
  inclusionPromise: message({ signedEntryTimestamp: 'bytes' }),
  inclusionProof: message({
    logIndex: 'int64',
    rootHash: 'bytes',
    treeSize: 'int64',
    hashes: { list: 'bytes' },
    checkpoint: message({ envelope: 'string' }),
  }),
  canonicalizedBody: 'bytes',
})

const BUNDLE: Shape = {
  fields: {
    mediaType: 'string',
    verificationMaterial: message(
      {
        publicKey: message({ hint: 'string' }),
        x509CertificateChain: message({ certificates: { list: message({ rawBytes: 'bytes' }) } }),
        certificate: message({ rawBytes: 'bytes' }),
        tlogEntries: { list: TLOG_ENTRY },
        timestampVerificationData: message({
          rfc3161Timestamps: { list: message({ signedTimestamp: 'bytes' }) },
        }),
      },
      [['publicKey', 'x509CertificateChain', 'certificate']],
    ),
    messageSignature: message({
      messageDigest: message({ algorithm: 'enum', digest: 'bytes' }),
      signature: 'bytes',
    }),
    dsseEnvelope: message({
      payload: 'bytes',
      payloadType: 'string',
      signatures: { list: message({ sig: 'bytes', keyid: 'string' }) },
    }),
  },
  oneOf: [['messageSignature', 'dsseEnvelope']],
}

// standard or URL-safe base64, padded or not (what protobuf JSON readers accept)
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/
const INT64 = /^-?[0-9]{1,19}$/
const ENUM_NAME = /^[A-Z][A-Z0-9_]*$/

/** Null when `json` has a sigstore bundle's exact shape, else the JSON path and what is wrong there. */
export function bundleShapeProblem(json: unknown): string | null {
  return check(json, BUNDLE, '$')
}

function check(value: unknown, shape: Shape, at: string): string | null {
  if (shape === 'string') return typeof value === 'string' ? null : `${at} is not a string`
  if (shape === 'bytes')
    return typeof value === 'string' && BASE64.test(value) ? null : `${at} is not base64 text`
  if (shape === 'int64')
    return (typeof value === 'string' && INT64.test(value)) ||
      (typeof value === 'number' && Number.isSafeInteger(value))
      ? null
      : `${at} is not an integer`
  if (shape === 'enum')
    return (typeof value === 'string' && ENUM_NAME.test(value)) ||
      (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)
      ? null
      : `${at} is not an enum value`
  if ('list' in shape) {
    if (!Array.isArray(value)) return `${at} is not an array`
    for (let i = 0; i < value.length; i++) {
      const p = check(value[i], shape.list, `${at}[${i}]`)
      if (p) return p
    }
    return null
  }
  if (value === null && shape.nullable) return null
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${at} is not an object`
  const record = value as Record<string, unknown>
  for (const key of Object.keys(record)) {
    const field = Object.hasOwn(shape.fields, key) ? shape.fields[key] : undefined
    if (field === undefined) return `${at}.${key} is not a field of a sigstore bundle`
    const p = check(record[key], field, `${at}.${key}`)
    if (p) return p
  }
  for (const group of shape.oneOf ?? []) {
    const set = group.filter((k) => record[k] !== undefined && record[k] !== null)
    if (set.length > 1) return `${at} has both ${set.join(' and ')}, which exclude each other`
  }
  return null
}
