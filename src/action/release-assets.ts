/**
 * Edge (files): copies what a release should carry into one flat folder, under the names supply-chain
 * scorecards look for: the artifacts, their `*.sigstore.json` bundles, the provenance bundle, the signed
 * provenance as `*.intoto.jsonl` (one DSSE envelope per line), the SBOM as `*.cdx.json`, the evidence.
 */
import { readdir, readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { copyFileAtomic, exists, writeFileAtomic } from '../util/fs.ts'
import { parseJsonText } from '../util/json-parse.ts'
import { compareCodePoint } from '../util/sort.ts'
import { WorkspaceFiles } from '../workspace/index.ts'

export const RELEASE_ASSETS_DIR = 'release-assets'
export const PROVENANCE_BUNDLE = 'provenance.sigstore.json'
export const PROVENANCE_JSONL = 'provenance.intoto.jsonl'

/** The DSSE envelope of a sigstore bundle as one JSON line (the slsa-github-generator layout). Pure. */
export function toIntotoJsonl(bundleText: string): string | null {
  let bundle: { dsseEnvelope?: unknown }
  try {
    bundle = parseJsonText(bundleText) as { dsseEnvelope?: unknown }
  } catch {
    return null
  }
  return bundle.dsseEnvelope ? `${JSON.stringify(bundle.dsseEnvelope)}\n` : null
}

/**
 * Writes `<out>/release-assets/` afresh and returns its file names, sorted. `check` sees every artifact
 * file name first (names are hostile: it throws for one that must not be published). `exclude`: workspace
 * files this run did not make (a skipped sign or bundle step leaves an earlier run's files in place).
 */
export async function writeReleaseAssets(
  out: string,
  check: (name: string, file: string) => void,
  exclude: ReadonlySet<string> = new Set(),
): Promise<string[]> {
  const dir = path.join(out, RELEASE_ASSETS_DIR)
  await rm(dir, { recursive: true, force: true })
  const copies = new Map<string, string>()
  const artifactsDir = path.join(out, WorkspaceFiles.artifactsDir)
  if (await exists(artifactsDir))
    for (const e of await readdir(artifactsDir, { withFileTypes: true }))
      if (e.isFile() && !e.name.startsWith('.')) {
        check(e.name, path.join(artifactsDir, e.name))
        copies.set(e.name, path.join(artifactsDir, e.name))
      }
  for (const name of [PROVENANCE_BUNDLE, WorkspaceFiles.sbomJson, WorkspaceFiles.evidence])
    if (!exclude.has(name) && (await exists(path.join(out, name)))) copies.set(name, path.join(out, name))
  const names: string[] = []
  for (const [name, from] of [...copies].sort((a, b) => compareCodePoint(a[0], b[0]))) {
    await copyFileAtomic(from, path.join(dir, name))
    names.push(name)
  }
  if (copies.has(PROVENANCE_BUNDLE)) {
    const jsonl = toIntotoJsonl(await readFile(copies.get(PROVENANCE_BUNDLE)!, 'utf8'))
    if (jsonl) {
      await writeFileAtomic(path.join(dir, PROVENANCE_JSONL), jsonl)
      names.push(PROVENANCE_JSONL)
    }
  }
  return names.sort(compareCodePoint)
}
