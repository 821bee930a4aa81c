/**
 * `detbuild trust export`: the trusted root a deploy gate should pin, written once while online and
 * given to `verify --trusted-root … --offline` where there is no network. From a given trusted root
 * (checked as `verify --trusted-root` checks it) or sigstore's public-good root through TUF. The
 * output is deterministic: the root re-serialized from its parsed form (unknown fields dropped),
 * keys sorted, 2-space indent, final newline: the same root gives the same bytes.
 */
import path from 'node:path'
import { TrustedRoot } from '@sigstore/protobuf-specs'
import { InputError } from '../errors.ts'
import { stableJson } from '../util/canonical-json.ts'
import { sha256Hex } from '../util/digest.ts'
import { readJsonFile, toPosixRelative } from '../util/fs.ts'
import { fetchPublicGoodRoot, PUBLIC_GOOD } from './trust.ts'
import { toTrustedRoot } from './trusted-root.ts'

export interface TrustExportOptions {
  /** base for relative paths */
  cwd: string
  /** a trusted_root.json to check and normalize; absent: the public-good root (network) */
  trustedRoot?: string
  /** no network: only with `trustedRoot` */
  offline?: boolean
  /** where the public-good root's TUF metadata is cached */
  tufCachePath?: string
}

export interface TrustExport {
  /** the file's bytes */
  text: string
  sha256: string
  /** where it came from: the given file (relative to cwd) or the public-good root */
  source: string
  /** how many of each kind of authority it trusts */
  counts: {
    certificateAuthorities: number
    ctlogs: number
    timestampAuthorities: number
    tlogs: number
  }
}

/** A parsed trusted root → the file to pin (pure). */
export function toTrustedRootFile(root: TrustedRoot): string {
  return stableJson(TrustedRoot.toJSON(root))
}

/** Reads (or fetches) the trusted root and returns what `trust export` writes. */
export async function exportTrustedRoot(o: TrustExportOptions): Promise<TrustExport> {
  let root: TrustedRoot
  let source: string
  if (o.trustedRoot !== undefined) {
    source = toPosixRelative(o.cwd, path.resolve(o.cwd, o.trustedRoot))
    const json = await readJsonFile(path.resolve(o.cwd, o.trustedRoot), 'VERIFY_TRUSTED_ROOT_INVALID', source)
    root = toTrustedRoot(json, source)
  } else if (o.offline === true) {
    throw new InputError(
      'VERIFY_OFFLINE_NETWORK_NEEDED',
      '--offline: the public-good trusted root comes through TUF, which is network; export it where there is network, or pass --trusted-root FILE to normalize a root you have',
    )
  } else {
    source = PUBLIC_GOOD
    root = await fetchPublicGoodRoot(o.tufCachePath)
  }
  const text = toTrustedRootFile(root)
  // what was written must read back as the trusted root it came from (`verify --trusted-root` checks)
  toTrustedRoot(JSON.parse(text), 'the exported trusted root')
  return {
    text,
    sha256: sha256Hex(text),
    source,
    counts: {
      certificateAuthorities: root.certificateAuthorities.length,
      ctlogs: root.ctlogs.length,
      timestampAuthorities: root.timestampAuthorities.length,
      tlogs: root.tlogs.length,
    },
  }
}
