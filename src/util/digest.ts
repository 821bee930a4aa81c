import { createHash } from 'node:crypto'
import ssri from 'ssri'

export interface Digests {
  sha256: string
  sha512: string
  /** SRI string holding the sha512 digest */
  integrity: string
  size: number
}

/** sha256 and sha512 of bytes in one pass. */
export function digestBytes(data: Uint8Array | string): Digests {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data
  const s256 = createHash('sha256').update(bytes).digest()
  const s512 = createHash('sha512').update(bytes).digest()
  return {
    sha256: s256.toString('hex'),
    sha512: s512.toString('hex'),
    integrity: ssri.fromHex(s512.toString('hex'), 'sha512').toString(),
    size: bytes.byteLength,
  }
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/**
 * Converts an SRI string's hashes to hex, per algorithm (first value wins). A string ssri reads no hash
 * from gives an empty map: the caller decides whether a missing hash is a problem.
 */
export function sriToHex(integrity: string): Map<string, string> {
  const out = new Map<string, string>()
  const parsed = ssri.parse(integrity, { single: false }) as ssri.Integrity | null
  if (parsed === null) return out
  for (const [algorithm, hashes] of Object.entries(parsed)) {
    const first = (hashes as ssri.Hash[])[0]
    if (first && !out.has(algorithm)) out.set(algorithm, first.hexDigest())
  }
  return out
}
