/**
 * `detbuild verify`: reads the artifact, bundle, key and trusted root (the edge), then hands plain
 * data to the pure core in verify-bundle.ts. Writes nothing.
 */
import { stat } from 'node:fs/promises'
import path from 'node:path'
import { type Digests, digestFile } from '../util/digest.ts'
import { readBytesFile, readJsonFile, toFsError, toPosixRelative } from '../util/fs.ts'
import { parseDigestArtifact, type VerifyCliOptions } from './options.ts'
import { loadTrust } from './trust.ts'
import { type ArtifactInput, type VerifyReport, verifyBundle } from './verify-bundle.ts'

export { bundleShapeProblem } from './bundle-shape.ts'
export { checkAnchoredRegExp } from './identity-regexp.ts'
export { parseDigestArtifact, resolvePolicy, type VerifyCliOptions } from './options.ts'
export { loadTrust, type Trust, type TrustFlags, type TrustInput } from './trust.ts'
export { exportTrustedRoot } from './trust-export.ts'
export { EMPTY_TRUSTED_ROOT } from './trusted-root.ts'
export type { ArtifactInput, SignerReport, VerifyReport } from './verify-bundle.ts'
export { verifyBundle } from './verify-bundle.ts'

/** Options of {@link verifyArtifact} (`detbuild verify --bundle`): the artifact, its bundle and who must have signed. */
export interface VerifyArtifactOptions extends VerifyCliOptions {
  /** base for relative paths */
  cwd: string
  /** a file path, or `sha256:<hex>` / `sha512:<hex>` */
  artifact: string
  bundle: string
  /** where the public-good trusted root is cached (TUF), when --trusted-root is not given */
  tufCachePath?: string
}

/** {@link verifyArtifact}'s answer: verified or the failure's code, the signer, the digests compared. */
export interface VerifyResult extends VerifyReport {
  /** the artifact as given (path relative to cwd, or the digest) */
  artifact: string
  bundle: string
  trustedRoot: string
}

/**
 * Verifies a sigstore bundle for an artifact file or digest (`detbuild verify --bundle`); a failed check is
 * `verified: false` in the result, bad input is thrown.
 */
export async function verifyArtifact(options: VerifyArtifactOptions): Promise<VerifyResult> {
  const display = (file: string): string => toPosixRelative(options.cwd, path.resolve(options.cwd, file))

  const digest = parseDigestArtifact(options.artifact)
  const artifact: ArtifactInput = digest ?? {
    kind: 'bytes',
    data: await readArtifact(options.cwd, options.artifact),
  }
  const bundleFile = path.resolve(options.cwd, options.bundle)
  const bundle = await readJsonFile(bundleFile, 'VERIFY_BUNDLE_NOT_JSON', display(options.bundle))

  const trust = await loadTrust(options, options.cwd, options.tufCachePath)
  const report = verifyBundle({ bundle, artifact, ...trust.request })
  return {
    ...report,
    artifact: digest ? `${digest.algorithm}:${digest.hex}` : display(options.artifact),
    bundle: display(options.bundle),
    trustedRoot: trust.trustedRootName,
  }
}

/**
 * Edge: an artifact's digests, read as a stream (any size, constant memory), failing as
 * {@link readArtifact} does; for `verify --evidence`, which compares digests only.
 */
export async function digestArtifact(cwd: string, file: string): Promise<Digests> {
  const full = path.resolve(cwd, file)
  try {
    if (!(await stat(full)).isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' })
    return await digestFile(full)
  } catch (e) {
    throw toFsError(e, toPosixRelative(cwd, full), 'VERIFY_ARTIFACT_UNREADABLE', 'read')
  }
}

/** Edge: an artifact's bytes; exported for `verify --evidence`. */
export function readArtifact(cwd: string, file: string): Promise<Buffer> {
  const full = path.resolve(cwd, file)
  return readBytesFile(full, 'VERIFY_ARTIFACT_UNREADABLE', toPosixRelative(cwd, full))
}
