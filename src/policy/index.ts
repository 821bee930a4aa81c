/**
 * `detbuild policy`: read the policy and the workspace (edge), evaluate (pure), write policy.json and
 * policy.md (edge). `evaluatePolicy` is exported for `detbuild run` and the evidence step.
 */
import path from 'node:path'
import { stableJson } from '../util/canonical-json.ts'
import { writeFileAtomic } from '../util/fs.ts'
import { WorkspaceFiles } from '../workspace.ts'
import { evaluatePolicy } from './evaluate.ts'
import { readPolicy, readPolicyInputs } from './policy-files.ts'
import { toMarkdown, toText } from './render.ts'
import type { PolicyResult } from './types.ts'

export { evaluatePolicy } from './evaluate.ts'
export { parsePolicy } from './parse-policy.ts'
export { listBuiltinPolicies, readPolicy, readPolicyInputs, readPolicySchema } from './policy-files.ts'
export { toMarkdown, toText } from './render.ts'
export type * from './types.ts'

export interface RunPolicyOptions {
  cwd: string
  out: string
  /** shipped policy name or file; default: the project's detbuild.policy.yaml, else `default` */
  policy?: string
  vex?: string[]
  sbom?: string
  vulns?: string
  build?: string
  /** null: do not read signatures.json (`detbuild run` signs after the policy step) */
  signatures?: string | null
  now: Date
}

export interface RunPolicyResult {
  result: PolicyResult
  /** POSIX paths relative to the project */
  written: string[]
}

export async function runPolicy(o: RunPolicyOptions): Promise<RunPolicyResult> {
  const { policy, source } = await readPolicy(o.cwd, o.policy)
  const inputs = await readPolicyInputs(o)
  const result = evaluatePolicy(policy, inputs, { now: o.now, source })
  const jsonFile = path.join(o.out, WorkspaceFiles.policy)
  const mdFile = path.join(o.out, WorkspaceFiles.policyMarkdown)
  await writeFileAtomic(jsonFile, stableJson(result))
  await writeFileAtomic(mdFile, toMarkdown(result))
  const rel = (f: string) => path.relative(o.cwd, f).split(path.sep).join('/')
  return { result, written: [rel(jsonFile), rel(mdFile)] }
}

export { toText as renderPolicyText }
