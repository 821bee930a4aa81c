/**
 * Edge (files): before a run, removes the outputs of the steps that come after `policy` and will run
 * again (signatures, evidence). Policy reads signatures.json, so a previous run's signatures must not
 * be judged as this run's.
 */
import { readdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { WorkspaceFiles } from '../workspace.ts'
import type { StepName } from './steps.ts'

const SIGN_OUTPUTS = ['signatures.json', 'provenance.sigstore.json']
const BUNDLE_OUTPUTS = [WorkspaceFiles.evidence]

export async function removeStaleOutputs(out: string, steps: readonly StepName[]): Promise<string[]> {
  const files: string[] = []
  if (steps.includes('sign')) {
    files.push(...SIGN_OUTPUTS)
    const dir = path.join(out, WorkspaceFiles.artifactsDir)
    const names = await readdir(dir).catch(() => [] as string[])
    for (const n of names) if (n.endsWith('.sigstore.json')) files.push(`${WorkspaceFiles.artifactsDir}/${n}`)
  }
  if (steps.includes('bundle')) files.push(...BUNDLE_OUTPUTS)
  for (const f of files) await rm(path.join(out, f), { force: true })
  return files
}
