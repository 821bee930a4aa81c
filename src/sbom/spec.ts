/** Pure: the CycloneDX versions detbuild writes, and the content-derived serial number (no library needed). */
import { createHash } from 'node:crypto'

/** 1.6 stays the default of `--spec` (src/cli/commands/sbom.ts): some consumers do not read 1.7 yet (docs/formats.md) */
export const SPEC_VERSIONS = ['1.7', '1.6', '1.5', '1.4'] as const
export type SpecVersion = (typeof SPEC_VERSIONS)[number]

/** A UUID (RFC 9562 version 8, i.e. custom) made from a sha256 of the BOM content. */
export function serialFromContent(content: string): string {
  return serialFromDigest(createHash('sha256').update(content).digest())
}

/** The serial of a content whose sha256 is `h` (see serialFromContent). */
export function serialFromDigest(digest: Buffer): string {
  const h = Buffer.from(digest)
  h[6] = (h[6]! & 0x0f) | 0x80
  h[8] = (h[8]! & 0x3f) | 0x80
  const x = h.subarray(0, 16).toString('hex')
  return `urn:uuid:${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`
}
