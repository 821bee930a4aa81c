/**
 * `detbuild sign`: signs the workspace's provenance and, when the scan wrote one, its vulnerability
 * attestation (DSSE in-toto attestations), and optionally each artifact (message signatures), then lists
 * the bundles in signatures.json. Edge: reads and writes
 * the workspace; signing itself is in sign-bundle.ts.
 */
import { readdir, rm } from 'node:fs/promises'
import path from 'node:path'
import type { SerializedBundle } from '@sigstore/bundle'
import { InputError, isDetbuildError } from '../errors.ts'
import { stableJson } from '../util/canonical-json.ts'
import { sha256Hex } from '../util/digest.ts'
import { readBytesFile, writeFilesAtomic } from '../util/fs.ts'
import { keyIdOf } from '../util/key-id.ts'
import { byKey, compareCodePoint } from '../util/sort.ts'
import { parseInTotoStatement, signaturesFile, WorkspaceFiles } from '../workspace/index.ts'
import { bundleCertificate, certificateIdentity } from './certificate.ts'
import { type SignerInfo, type SigningConfig, signDsse, signFile } from './sign-bundle.ts'

export { bundleCertificate, certificateIdentity } from './certificate.ts'
export { DEFAULT_PASSWORD_ENV, PEM_KEY_DISPLAY, resolveSigningConfig, type SignFlags } from './config.ts'
export { generateKeyPairPem, KEY_ALGORITHMS, toPrivateKey } from './keys.ts'
export type { SignerInfo, SigningConfig } from './sign-bundle.ts'
export { signDsse, signFile } from './sign-bundle.ts'

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json'
export const SIGNATURES_FILE = WorkspaceFiles.signatures
export const PROVENANCE_BUNDLE = 'provenance.sigstore.json'
/** the vulnerability-scan attestation's bundle, beside vulns.intoto.json when the scan wrote one */
export const VULNS_BUNDLE = 'vulns.sigstore.json'
export const BUNDLE_SUFFIX = '.sigstore.json'

export interface SignatureEntry {
  file: string
  kind: 'dsse' | 'message'
  subject: string
  sha256: string
  signer: SignerInfo
  /** whether the bundle holds a transparency-log entry */
  tlog: boolean
}

/** signatures.json: one entry per signed workspace file and its sigstore bundle. */
export interface SignaturesManifest {
  schemaVersion: 1
  bundles: SignatureEntry[]
}

/** Options of {@link signWorkspace} (`detbuild sign`). */
export interface SignWorkspaceOptions {
  /** the workspace folder (absolute) */
  out: string
  signing: SigningConfig
  /** also sign each file in <out>/artifacts/ */
  artifacts: boolean
}

/** Signs the workspace and writes the bundles and signatures.json atomically. */
export async function signWorkspace(options: SignWorkspaceOptions): Promise<SignaturesManifest> {
  const provenanceFile = path.join(options.out, WorkspaceFiles.provenance)
  let provenance: Buffer
  try {
    provenance = await readBytesFile(provenanceFile, 'SIGN_PROVENANCE_MISSING', WorkspaceFiles.provenance)
  } catch (e) {
    // a missing provenance gets the hint; a folder, a loop or a full disk keeps its own message
    if (!isDetbuildError(e) || e.details?.errno !== 'ENOENT') throw e
    throw new InputError('SIGN_PROVENANCE_MISSING', 'provenance not found: run detbuild build first', {
      file: WorkspaceFiles.provenance,
      cause: e,
    })
  }
  checkStatement(provenance)

  const outputs: Array<{ file: string; bundle: SerializedBundle; entry: SignatureEntry }> = []
  const bundle = await signDsse(provenance, IN_TOTO_PAYLOAD_TYPE, options.signing)
  outputs.push({
    file: PROVENANCE_BUNDLE,
    bundle,
    entry: toEntry(PROVENANCE_BUNDLE, 'dsse', WorkspaceFiles.provenance, provenance, bundle, options.signing),
  })

  // the scan's attestation, when the scan ran: signed like the provenance (a DSSE bundle over its bytes)
  const vulnsStatement = await readOptional(path.join(options.out, WorkspaceFiles.vulnsStatement))
  if (vulnsStatement) {
    parseInTotoStatement(vulnsStatement, WorkspaceFiles.vulnsStatement, 'WORKSPACE_VULNS_STATEMENT_INVALID')
    const b = await signDsse(vulnsStatement, IN_TOTO_PAYLOAD_TYPE, options.signing)
    outputs.push({
      file: VULNS_BUNDLE,
      bundle: b,
      entry: toEntry(VULNS_BUNDLE, 'dsse', WorkspaceFiles.vulnsStatement, vulnsStatement, b, options.signing),
    })
  }

  if (options.artifacts) {
    const names = await listArtifacts(path.join(options.out, WorkspaceFiles.artifactsDir))
    if (names.length === 0)
      throw new InputError('SIGN_NO_ARTIFACTS', '--artifacts given but the artifacts folder has no files', {
        file: WorkspaceFiles.artifactsDir,
      })
    for (const name of names) {
      const subject = `${WorkspaceFiles.artifactsDir}/${name}`
      const data = await readBytesFile(
        path.join(options.out, WorkspaceFiles.artifactsDir, name),
        'INPUT_UNREADABLE',
        subject,
      )
      const b = await signFile(data, options.signing)
      const file = `${subject}${BUNDLE_SUFFIX}`
      outputs.push({ file, bundle: b, entry: toEntry(file, 'message', subject, data, b, options.signing) })
    }
  }

  // everything signed: only now write, so a failure leaves no half-signed workspace
  // …and as one set, so signatures.json never lists a bundle of another run
  const manifest = toManifest(outputs.map((o) => o.entry))
  await writeFilesAtomic([
    ...outputs.map((o) => ({ file: path.join(options.out, o.file), data: stableJson(o.bundle) })),
    signaturesFile(options.out, manifest),
  ])
  await removeSupersededBundles(options.out, new Set(manifest.bundles.map((b) => b.file)))
  return manifest
}

/** signatures.json, entries sorted by file. Pure. */
export function toManifest(entries: SignatureEntry[]): SignaturesManifest {
  return { schemaVersion: 1, bundles: [...entries].sort(byKey((e) => e.file)) }
}

function toEntry(
  file: string,
  kind: 'dsse' | 'message',
  subject: string,
  data: Uint8Array,
  bundle: SerializedBundle,
  signing: SigningConfig,
): SignatureEntry {
  return {
    file,
    kind,
    subject,
    sha256: sha256Hex(data),
    signer: signerOf(bundle, signing),
    tlog: (bundle.verificationMaterial?.tlogEntries?.length ?? 0) > 0,
  }
}

/** Who signed a bundle we just made. Pure. */
export function signerOf(bundle: SerializedBundle, signing: SigningConfig): SignerInfo {
  if (signing.mode === 'key') return { type: 'key', keyId: keyIdOf(signing.privateKey) }
  const cert = bundleCertificate(bundle)
  const { identity, issuer } = cert ? certificateIdentity(cert) : { identity: '', issuer: '' }
  return { type: 'keyless', identity, issuer }
}

function checkStatement(data: Buffer): void {
  // file, line and column on bad JSON; depth capped; the JSON path of what the in-toto schema refuses
  parseInTotoStatement(data, WorkspaceFiles.provenance, 'SIGN_PROVENANCE_INVALID')
}

/**
 * Signing replaces the step's outputs: an `artifacts/*.sigstore.json` of an earlier signing that the new
 * signatures.json does not list (its artifact is gone, or artifacts are no longer signed) goes too, and
 * so does a vulns.sigstore.json when there is no vulns.intoto.json any more.
 */
async function removeSupersededBundles(out: string, listed: ReadonlySet<string>): Promise<void> {
  if (!listed.has(VULNS_BUNDLE)) await rm(path.join(out, VULNS_BUNDLE), { force: true })
  const dir = path.join(out, WorkspaceFiles.artifactsDir)
  for (const name of await readdir(dir).catch(() => [] as string[]))
    if (name.endsWith(BUNDLE_SUFFIX) && !listed.has(`${WorkspaceFiles.artifactsDir}/${name}`))
      await rm(path.join(dir, name), { force: true })
}

/** A workspace file's bytes, or undefined when it does not exist (any other failure is an error). */
async function readOptional(file: string): Promise<Buffer | undefined> {
  try {
    return await readBytesFile(file, 'INPUT_UNREADABLE', path.basename(file))
  } catch (e) {
    if (isDetbuildError(e) && e.details?.errno === 'ENOENT') return undefined
    throw e
  }
}

async function listArtifacts(dir: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[]
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return []
  }
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith('.') && !e.name.endsWith(BUNDLE_SUFFIX))
    .map((e) => e.name)
    .sort(compareCodePoint)
}
