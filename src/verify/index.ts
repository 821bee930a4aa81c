/**
 * `detbuild verify`: reads the artifact, bundle, key and trusted root (the edge), then hands plain
 * data to the pure core in verify-bundle.ts. Writes nothing.
 */
import { createPublicKey, type KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { TrustedRoot } from '@sigstore/protobuf-specs'
import { IncompleteError, InputError } from '../errors.ts'
import { readJsonFile, readTextFile, toPosixRelative } from '../util/fs.ts'
import { parseDigestArtifact, resolvePolicy, type VerifyCliOptions } from './options.ts'
import { toTrustedRoot } from './trusted-root.ts'
import { type ArtifactInput, type VerifyReport, verifyBundle } from './verify-bundle.ts'

export { checkTrustedRoot, toTrustedRoot } from './trusted-root.ts'
export type { ArtifactInput, IdentityPolicy, VerifyReport, VerifyRequest } from './verify-bundle.ts'
export { verifyBundle } from './verify-bundle.ts'

export interface VerifyArtifactOptions extends VerifyCliOptions {
  /** base for relative paths */
  cwd: string
  /** a file path, or `sha256:<hex>` / `sha512:<hex>` */
  artifact: string
  bundle: string
  /** where the public-good trusted root is cached (TUF), when --trusted-root is not given */
  tufCachePath?: string
}

export interface VerifyResult extends VerifyReport {
  /** the artifact as given (path relative to cwd, or the digest) */
  artifact: string
  bundle: string
  trustedRoot: string
}

export async function verifyArtifact(options: VerifyArtifactOptions): Promise<VerifyResult> {
  const policy = resolvePolicy(options)
  const display = (file: string): string => toPosixRelative(options.cwd, path.resolve(options.cwd, file))

  const digest = parseDigestArtifact(options.artifact)
  const artifact: ArtifactInput = digest ?? {
    kind: 'bytes',
    data: await readArtifact(options.cwd, options.artifact),
  }
  const bundleFile = path.resolve(options.cwd, options.bundle)
  const bundle = await readJsonFile(bundleFile, 'VERIFY_BUNDLE_NOT_JSON', display(options.bundle))

  let key: KeyObject | undefined
  if (policy.mode === 'key') {
    const pem = await readTextFile(
      path.resolve(options.cwd, policy.keyFile),
      'VERIFY_KEY_INVALID',
      display(policy.keyFile),
    )
    try {
      key = createPublicKey(pem)
    } catch (e) {
      throw new InputError('VERIFY_KEY_INVALID', 'not a PEM public key', {
        file: display(policy.keyFile),
        cause: e,
      })
    }
  }

  let trustedRoot: TrustedRoot
  let trustedRootName: string
  if (options.trustedRoot !== undefined) {
    trustedRootName = display(options.trustedRoot)
    const json = await readJsonFile(
      path.resolve(options.cwd, options.trustedRoot),
      'VERIFY_TRUSTED_ROOT_INVALID',
      trustedRootName,
    )
    trustedRoot = toTrustedRoot(json, trustedRootName)
  } else {
    trustedRootName = 'sigstore public-good (TUF)'
    trustedRoot = await fetchPublicGoodRoot(options.tufCachePath)
  }

  const report = verifyBundle({
    bundle,
    artifact,
    trustedRoot,
    ...(key ? { key, requireTlog: policy.mode === 'key' && policy.requireTlog } : {}),
    ...(policy.mode === 'keyless'
      ? {
          identity: {
            issuer: policy.issuer,
            ...(policy.identity !== undefined ? { identity: policy.identity } : {}),
            ...(policy.identityRegexp !== undefined ? { identityRegexp: policy.identityRegexp } : {}),
          },
        }
      : {}),
  })
  return {
    ...report,
    artifact: digest ? `${digest.algorithm}:${digest.hex}` : display(options.artifact),
    bundle: display(options.bundle),
    trustedRoot: trustedRootName,
  }
}

async function readArtifact(cwd: string, file: string): Promise<Buffer> {
  try {
    return await readFile(path.resolve(cwd, file))
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new InputError(
      'VERIFY_ARTIFACT_UNREADABLE',
      code === 'ENOENT'
        ? 'artifact not found'
        : code === 'EISDIR'
          ? 'is a directory, expected a file'
          : `cannot read (${code})`,
      { file: toPosixRelative(cwd, path.resolve(cwd, file)), cause: e },
    )
  }
}

/** Edge (network): the public-good trusted root through sigstore's TUF repository. */
async function fetchPublicGoodRoot(cachePath: string | undefined): Promise<TrustedRoot> {
  try {
    const tuf = await import('@sigstore/tuf')
    return await tuf.getTrustedRoot(cachePath ? { cachePath } : {})
  } catch (e) {
    throw new IncompleteError(
      'VERIFY_TRUSTED_ROOT_UNAVAILABLE',
      `cannot fetch the sigstore public-good trusted root (${e instanceof Error ? e.message : String(e)}); pass --trusted-root FILE to verify offline`,
      { cause: e },
    )
  }
}
