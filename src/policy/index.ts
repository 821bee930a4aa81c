/**
 * `detbuild policy`: read the policy and the workspace (edge), evaluate (pure), write policy.json and
 * policy.md (edge). `evaluatePolicy` is exported for `detbuild run` and the evidence step.
 */
import path from 'node:path'
import { writeFileAtomic } from '../util/fs.ts'
import type { TrustInput } from '../verify/index.ts'
import { WorkspaceFiles, writePolicyResult } from '../workspace/index.ts'
import { evaluatePolicy } from './evaluate.ts'
import { readPolicy, readPolicyInputs } from './policy-files.ts'
import { toMarkdown } from './render.ts'
import { prepareSignatureTrust } from './signature-trust.ts'
import type { PolicyResult } from './types.ts'

export { evaluatePolicy } from './evaluate.ts'
export { POLICIES_DIR, readPolicy, readPolicyInputs } from './policy-files.ts'
export { matchesPurl } from './purl.ts'
export { toText } from './render.ts'
export { signatureTrust } from './signature-trust.ts'
export type * from './types.ts'

/** Options of {@link runPolicy} (`detbuild policy`). */
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
  /**
   * who must have signed (verify's flags): the signing rules verify every bundle with it; without it
   * they cannot trust any bundle (POLICY_SIGNING_NO_TRUST)
   */
  trust?: TrustInput
  /** where the public-good trusted root is cached (TUF), when trust.trustedRoot is not given */
  tufCachePath?: string
  now: Date
}

/** The policy verdict {@link runPolicy} computed, and the files it wrote. */
export interface RunPolicyResult {
  result: PolicyResult
  /** POSIX paths relative to the project */
  written: string[]
}

/** Judges the workspace's SBOM, findings, build and signatures against a policy (`detbuild policy`). */
export async function runPolicy(o: RunPolicyOptions): Promise<RunPolicyResult> {
  const loadTrust = prepareSignatureTrust(o.trust, o.cwd, o.tufCachePath)
  const { policy, source } = await readPolicy(o.cwd, o.policy)
  const inputs = await readPolicyInputs(o)
  const trust = await loadTrust(policy, inputs)
  const result = evaluatePolicy(policy, inputs, { now: o.now, source, ...(trust ? { trust } : {}) })
  const jsonFile = path.join(o.out, WorkspaceFiles.policy)
  const mdFile = path.join(o.out, WorkspaceFiles.policyMarkdown)
  await writePolicyResult(o.out, result)
  await writeFileAtomic(mdFile, toMarkdown(result))
  const rel = (f: string) => path.relative(o.cwd, f).split(path.sep).join('/')
  return { result, written: [rel(jsonFile), rel(mdFile)] }
}
