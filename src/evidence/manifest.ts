/** The evidence manifest: built from file bytes, parsed back strictly, and compared with an archive. Pure. */
import { type Digests, digestBytes } from '../util/digest.ts'
import { parseJsonText } from '../util/json-parse.ts'
import { byKey, compareCodePoint } from '../util/sort.ts'
import { VERSION } from '../version.ts'
import { pathProblem } from './archive.ts'
import {
  type EvidenceFailure,
  type EvidenceManifest,
  MANIFEST_BUNDLE,
  MANIFEST_FILE,
  MANIFEST_KIND,
  type ManifestArtifact,
  type ManifestFile,
} from './types.ts'

/** The manifest entry of one file. */
export function toManifestFile(path: string, data: Uint8Array): ManifestFile {
  const d = digestBytes(data)
  return { path, size: d.size, sha256: d.sha256, integrity: d.integrity }
}

/** An artifact the manifest lists: its bytes, or the digests {@link digestFile} took of its file. */
export type ManifestArtifactInput = { path: string; included: boolean } & (
  | { data: Uint8Array }
  | { digests: Digests }
)

function artifactFile(a: ManifestArtifactInput): ManifestFile {
  if ('data' in a) return toManifestFile(a.path, a.data)
  const d = a.digests
  return { path: a.path, size: d.size, sha256: d.sha256, integrity: d.integrity }
}

/** The manifest: `files` are the members held in memory; an included artifact is a member too. */
export function toManifest(
  files: ReadonlyMap<string, Uint8Array>,
  artifacts: readonly ManifestArtifactInput[],
  sourceDateEpoch: number,
): EvidenceManifest {
  const members = [...files].map(([p, data]) => toManifestFile(p, data))
  for (const a of artifacts) if (a.included && !files.has(a.path)) members.push(artifactFile(a))
  return {
    schemaVersion: 1,
    kind: MANIFEST_KIND,
    detbuild: { version: VERSION },
    sourceDateEpoch,
    files: members.sort(byKey((f) => f.path)),
    artifacts: artifacts
      .map((a) => ({ ...artifactFile(a), included: a.included }))
      .sort(byKey((a) => a.path)),
  }
}

const HEX64 = /^[0-9a-f]{64}$/
const SRI512 = /^sha512-[A-Za-z0-9+/]{86}==$/

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function toFile(v: unknown, where: string): ManifestFile {
  if (!isObject(v)) throw new Error(`${where} is not an object`)
  const { path, size, sha256, integrity } = v
  if (typeof path !== 'string' || pathProblem(path) !== null) throw new Error(`${where}.path is not safe`)
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    throw new Error(`${where}.size is not a size`)
  if (typeof sha256 !== 'string' || !HEX64.test(sha256)) throw new Error(`${where}.sha256 is not hex`)
  if (typeof integrity !== 'string' || !SRI512.test(integrity))
    throw new Error(`${where}.integrity is not a sha512 SRI string`)
  return { path, size, sha256, integrity }
}

/** Parses manifest.json bytes; a problem is an EVIDENCE_MANIFEST_INVALID failure, not an exception. */
export function parseManifest(bytes: Uint8Array): EvidenceManifest | EvidenceFailure {
  const invalid = (why: string): EvidenceFailure => ({
    code: 'EVIDENCE_MANIFEST_INVALID',
    message: `manifest.json: ${why}`,
    file: MANIFEST_FILE,
  })
  let raw: unknown
  try {
    raw = parseJsonText(Buffer.from(bytes).toString('utf8'))
  } catch {
    return invalid('not JSON')
  }
  if (!isObject(raw)) return invalid('not an object')
  if (raw.schemaVersion !== 1 || raw.kind !== MANIFEST_KIND)
    return invalid(`not a detbuild evidence manifest (kind ${MANIFEST_KIND}, schemaVersion 1)`)
  if (!Array.isArray(raw.files) || !Array.isArray(raw.artifacts)) return invalid('files/artifacts missing')
  const epoch = raw.sourceDateEpoch
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0)
    return invalid('sourceDateEpoch is not a whole number')
  const version = isObject(raw.detbuild) ? raw.detbuild.version : undefined
  try {
    const files = raw.files.map((f, i) => toFile(f, `files[${i}]`))
    const artifacts: ManifestArtifact[] = raw.artifacts.map((a, i) => {
      const f = toFile(a, `artifacts[${i}]`)
      if (!isObject(a) || typeof a.included !== 'boolean')
        throw new Error(`artifacts[${i}].included is not a boolean`)
      return { ...f, included: a.included }
    })
    const seen = new Set<string>()
    for (const f of files) {
      if (seen.has(f.path)) throw new Error(`${f.path} is listed twice`)
      if (f.path === MANIFEST_FILE || f.path === MANIFEST_BUNDLE)
        throw new Error(`${f.path} cannot list itself`)
      seen.add(f.path)
    }
    return {
      schemaVersion: 1,
      kind: MANIFEST_KIND,
      detbuild: { version: typeof version === 'string' ? version : 'unknown' },
      sourceDateEpoch: epoch,
      files,
      artifacts,
    }
  } catch (e) {
    return invalid((e as Error).message)
  }
}

export function isFailure(v: EvidenceManifest | EvidenceFailure): v is EvidenceFailure {
  return 'code' in v
}

/**
 * Every listed file present with its size, sha256 and sha512; nothing unlisted. One failure per file,
 * sorted by path. Included artifacts are files like any other.
 */
export function checkContents(
  manifest: EvidenceManifest,
  members: ReadonlyMap<string, Uint8Array>,
): EvidenceFailure[] {
  const failures: EvidenceFailure[] = []
  const listed = new Set<string>([MANIFEST_FILE, MANIFEST_BUNDLE])
  for (const f of manifest.files) {
    listed.add(f.path)
    const data = members.get(f.path)
    if (data === undefined) {
      failures.push({
        code: 'EVIDENCE_FILE_MISSING',
        message: `${f.path} is listed but not in the archive`,
        file: f.path,
      })
      continue
    }
    const found = toManifestFile(f.path, data)
    const field =
      found.size !== f.size
        ? 'size'
        : found.sha256 !== f.sha256
          ? 'sha256'
          : found.integrity !== f.integrity
            ? 'integrity'
            : null
    if (field !== null)
      failures.push({
        code: 'EVIDENCE_FILE_MODIFIED',
        message: `${f.path} does not match the manifest (${field})`,
        file: f.path,
        expected: String(f[field]),
        found: String(found[field]),
      })
  }
  for (const a of manifest.artifacts) {
    if (!a.included) continue
    if (!manifest.files.some((f) => f.path === a.path))
      failures.push({
        code: 'EVIDENCE_FILE_MISSING',
        message: `artifact ${a.path} is marked included but not listed`,
        file: a.path,
      })
  }
  for (const name of [...members.keys()].sort(compareCodePoint))
    if (!listed.has(name))
      failures.push({
        code: 'EVIDENCE_FILE_UNLISTED',
        message: `${name} is in the archive but not in the manifest`,
        file: name,
      })
  return failures.sort((a, b) => compareCodePoint(a.file ?? '', b.file ?? ''))
}
