/**
 * Edge (files, network): the trust material from `detbuild verify` flags (resolved by options.ts): a public
 * key or an identity policy, and a trusted root (a file, or sigstore's public-good root through TUF).
 * Used by `verify --bundle` and `verify --evidence`.
 */
import { createPublicKey, type KeyObject } from 'node:crypto'
import path from 'node:path'
import type { TrustedRoot } from '@sigstore/protobuf-specs'
import { IncompleteError, InputError } from '../errors.ts'
import { readJsonFile, readTextFile, toPosixRelative } from '../util/fs.ts'
import { resolvePolicy, type VerifyCliOptions } from './options.ts'
import { EMPTY_TRUSTED_ROOT, toTrustedRoot } from './trusted-root.ts'
import type { VerifyRequest } from './verify-bundle.ts'

export type TrustFlags = Omit<VerifyCliOptions, 'bundle'>

/**
 * The trust flags, with the key and the trusted root optionally held in memory instead of named by a
 * file: `detbuild run` verifies with its own signing key's public half and, for key signatures without
 * a log entry, a trusted root that trusts nothing, and writes neither to disk.
 */
export interface TrustInput extends TrustFlags {
  /** the public key itself, instead of the file `key` names */
  publicKey?: KeyObject
  /** a parsed trusted_root.json and the name reports show for it, instead of the file `trustedRoot` names */
  trustedRootData?: { json: unknown; name: string }
}

/** How reports name sigstore's public-good trusted root. */
export const PUBLIC_GOOD = 'sigstore public-good (TUF)'

/**
 * Edge (network, the TUF cache): sigstore's public-good trusted root through its TUF repository
 * (verified and cached by @sigstore/tuf; the cache is refreshed when its metadata expired).
 */
export async function fetchPublicGoodRoot(tufCachePath?: string): Promise<TrustedRoot> {
  try {
    // `.default` (module.exports): the bundled CLI's lazy chunk of a CommonJS package has only that
    const tuf = (await import('@sigstore/tuf')).default
    return await tuf.getTrustedRoot(tufCachePath ? { cachePath: tufCachePath } : {})
  } catch (e) {
    throw new IncompleteError(
      'VERIFY_TRUSTED_ROOT_UNAVAILABLE',
      `cannot fetch the sigstore public-good trusted root (${e instanceof Error ? e.message : String(e)}); pass --trusted-root FILE to verify offline`,
      { cause: e },
    )
  }
}

/** How reports name the trusted root of a key without a transparency-log requirement. */
export const NO_TRUSTED_ROOT = 'none needed (a key, no transparency-log entry required)'

/** How errors and reports name a public key held in memory. */
const IN_MEMORY_KEY = 'the public key given in memory'

export interface Trust {
  /** everything of a VerifyRequest but the bundle and the artifact */
  request: Omit<VerifyRequest, 'bundle' | 'artifact'>
  trustedRootName: string
}

/** Reads the key and trusted root files the flags name (those not given in memory), then builds the request. */
export async function loadTrust(flags: TrustInput, cwd: string, tufCachePath?: string): Promise<Trust> {
  if (flags.key !== undefined && flags.publicKey !== undefined)
    throw new InputError(
      'VERIFY_USAGE',
      'a public key file and a public key in memory cannot be used together',
    )
  if (flags.trustedRoot !== undefined && flags.trustedRootData !== undefined)
    throw new InputError(
      'VERIFY_USAGE',
      'a trusted root file and a trusted root in memory cannot be used together',
    )
  const policy = resolvePolicy(flags.publicKey !== undefined ? { ...flags, key: IN_MEMORY_KEY } : flags)
  const display = (file: string): string => toPosixRelative(cwd, path.resolve(cwd, file))
  let key: KeyObject | undefined
  if (policy.mode === 'key' && flags.publicKey !== undefined) key = flags.publicKey
  else if (policy.mode === 'key') {
    const pem = await readTextFile(
      path.resolve(cwd, policy.keyFile),
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
  let keyOnly = false
  if (flags.trustedRootData !== undefined) {
    trustedRootName = flags.trustedRootData.name
    trustedRoot = toTrustedRoot(flags.trustedRootData.json, trustedRootName)
  } else if (flags.trustedRoot !== undefined) {
    trustedRootName = display(flags.trustedRoot)
    const json = await readJsonFile(
      path.resolve(cwd, flags.trustedRoot),
      'VERIFY_TRUSTED_ROOT_INVALID',
      trustedRootName,
    )
    trustedRoot = toTrustedRoot(json, trustedRootName)
  } else if (policy.mode === 'key' && !policy.requireTlog) {
    // the key is the whole trust: no certificate authority, log or timestamp authority to fetch
    trustedRootName = NO_TRUSTED_ROOT
    trustedRoot = toTrustedRoot(EMPTY_TRUSTED_ROOT, trustedRootName)
    keyOnly = true
  } else if (flags.offline === true) {
    throw new InputError(
      'VERIFY_OFFLINE_NETWORK_NEEDED',
      `--offline: ${policy.mode === 'key' ? 'a transparency-log entry' : 'a keyless signature'} is verified against a trusted root, and fetching the public-good one is network; pass --trusted-root FILE (written by \`detbuild trust export\` while online)${policy.mode === 'key' ? ', or --insecure-ignore-tlog for a signature made with --no-tlog' : ''}`,
    )
  } else {
    trustedRootName = PUBLIC_GOOD
    trustedRoot = await fetchPublicGoodRoot(tufCachePath)
  }
  return {
    trustedRootName,
    request: {
      trustedRoot,
      ...(key ? { key, requireTlog: policy.mode === 'key' && policy.requireTlog } : {}),
      ...(keyOnly ? { keyOnly } : {}),
      ...(policy.mode === 'keyless'
        ? {
            identity: {
              ...(policy.issuer !== undefined ? { issuer: policy.issuer } : {}),
              ...(policy.issuerRegexp !== undefined ? { issuerRegexp: policy.issuerRegexp } : {}),
              ...(policy.identity !== undefined ? { identity: policy.identity } : {}),
              ...(policy.identityRegexp !== undefined ? { identityRegexp: policy.identityRegexp } : {}),
            },
          }
        : {}),
    },
  }
}
