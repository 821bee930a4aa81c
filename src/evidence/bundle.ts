/**
 * `detbuild bundle`: collect the workspace's evidence (edge), build and sign the manifest, pack the
 * archive (pure), write it atomically (edge). One signature over manifest.json covers every file.
 */
import path from 'node:path'
import { type SigningConfig, signerOf, signFile } from '../sign/index.ts'
import { stableJson } from '../util/canonical-json.ts'
import { digestBytes } from '../util/digest.ts'
import { toPosixRelative, writeFileAtomic } from '../util/fs.ts'
import type { Logger } from '../util/log.ts'
import { WorkspaceFiles } from '../workspace.ts'
import { packEvidence } from './archive.ts'
import { collectEvidence } from './collect.ts'
import { toManifest } from './manifest.ts'
import { MANIFEST_BUNDLE, MANIFEST_FILE, type ManifestArtifact, type SignerSummary } from './types.ts'

export interface BundleOptions {
  cwd: string
  out: string
  /** the archive to write; default `<out>/evidence.tar.gz` */
  output?: string
  signing: SigningConfig
  includeArtifacts: boolean
  env: NodeJS.ProcessEnv
  log: Logger
}

export interface BundleResult {
  /** the archive, POSIX and relative to the project */
  file: string
  size: number
  sha256: string
  integrity: string
  sourceDateEpoch: number
  /** archive members besides manifest.json and its signature */
  files: string[]
  artifacts: ManifestArtifact[]
  signer: SignerSummary
  tlog: boolean
}

export async function createEvidenceBundle(o: BundleOptions): Promise<BundleResult> {
  const collected = await collectEvidence({
    cwd: o.cwd,
    out: o.out,
    includeArtifacts: o.includeArtifacts,
    env: o.env,
  })
  for (const name of collected.absent) o.log.warn(`no ${name} in the workspace; the bundle will not hold it`)
  if (collected.epochFrom !== 'build.json')
    o.log.warn(`no sourceDateEpoch in build.json: member times come from ${collected.epochFrom}`)

  const manifest = toManifest(collected.files, collected.artifacts, collected.sourceDateEpoch)
  const manifestBytes = Buffer.from(stableJson(manifest))
  const bundle = await signFile(manifestBytes, o.signing)

  const members = new Map<string, Uint8Array>(collected.files)
  members.set(MANIFEST_FILE, manifestBytes)
  members.set(MANIFEST_BUNDLE, Buffer.from(stableJson(bundle)))
  const archive = packEvidence(members, collected.sourceDateEpoch)

  const target = o.output ? path.resolve(o.cwd, o.output) : path.join(o.out, WorkspaceFiles.evidence)
  await writeFileAtomic(target, archive)
  const d = digestBytes(archive)
  return {
    file: toPosixRelative(o.cwd, target),
    size: d.size,
    sha256: d.sha256,
    integrity: d.integrity,
    sourceDateEpoch: collected.sourceDateEpoch,
    files: manifest.files.map((f) => f.path),
    artifacts: manifest.artifacts,
    signer: signerOf(bundle, o.signing),
    tlog: (bundle.verificationMaterial?.tlogEntries?.length ?? 0) > 0,
  }
}
