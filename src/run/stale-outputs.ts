/**
 * Edge (files): after the sign step ran, removes the signature bundles of a previous run that the new
 * signatures.json no longer lists (an artifact that is gone, or `--no-sign-artifacts`). Only a step
 * that ran replaces its outputs: nothing is removed for a step that was skipped, failed or not run.
 */
import { readdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { compareCodePoint } from '../util/sort.ts'
import { WorkspaceFiles } from '../workspace.ts'

const BUNDLE_SUFFIX = '.sigstore.json'

/** Removes `artifacts/*.sigstore.json` not in `listed` (workspace-relative); returns what it removed. */
export async function removeSupersededBundles(out: string, listed: readonly string[]): Promise<string[]> {
  const keep = new Set(listed)
  const dir = path.join(out, WorkspaceFiles.artifactsDir)
  const names = await readdir(dir).catch(() => [] as string[])
  const removed: string[] = []
  for (const n of names) {
    const rel = `${WorkspaceFiles.artifactsDir}/${n}`
    if (!n.endsWith(BUNDLE_SUFFIX) || keep.has(rel)) continue
    await rm(path.join(dir, n), { force: true })
    removed.push(rel)
  }
  return removed.sort(compareCodePoint)
}
