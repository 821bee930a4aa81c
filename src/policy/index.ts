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
import type { Policy, PolicyResult } from './types.ts'

export { evaluatePolicy } from './evaluate.ts'
export { POLICIES_DIR, readPolicy, readPolicyInputs } from './policy-files.ts'
export { matchesPurl } from './purl.ts'
export { toText } from './render.ts'
export { scoreDocument, scoreSbom, scoreText } from './score.ts'
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
  /**
   * leave the signing rules out (`detbuild run` before its sign step: the other rules gate signing, and
   * the whole policy is evaluated again once this run's signatures exist)
   */
  deferSigning?: boolean
  now: Date
}

/** The policy verdict {@link runPolicy} computed, and the files it wrote. */
export interface RunPolicyResult {
  result: PolicyResult
  /** POSIX paths relative to the project */
  written: string[]
  /** the ids of the signing rules left out by `deferSigning` (none: nothing to evaluate later) */
  deferred: string[]
}

/** Judges the workspace's SBOM, findings, build and signatures against a policy (`detbuild policy`). */
export async function runPolicy(o: RunPolicyOptions): Promise<RunPolicyResult> {
  const loadTrust = prepareSignatureTrust(o.trust, o.cwd, o.tufCachePath)
  const read = await readPolicy(o.cwd, o.policy)
  const { source } = read
  const deferred = o.deferSigning ? signingRuleIds(read.policy) : []
  // the policy's source and digest stay the file's: only which rules are evaluated now changes
  const policy = deferred.length > 0 ? withoutSigning(read.policy) : read.policy
  const inputs = await readPolicyInputs(o)
  const trust = await loadTrust(policy, inputs)
  const result = evaluatePolicy(policy, inputs, { now: o.now, source, ...(trust ? { trust } : {}) })
  const jsonFile = path.join(o.out, WorkspaceFiles.policy)
  const mdFile = path.join(o.out, WorkspaceFiles.policyMarkdown)
  await writePolicyResult(o.out, result)
  await writeFileAtomic(mdFile, toMarkdown(result))
  const rel = (f: string) => path.relative(o.cwd, f).split(path.sep).join('/')
  return { result, written: [rel(jsonFile), rel(mdFile)], deferred }
}

function withoutSigning(policy: Policy): Policy {
  const copy = { ...policy }
  delete copy.signing
  return copy
}

/** The signing rules a policy enables (pure). */
function signingRuleIds(policy: Policy): string[] {
  const s = policy.signing
  if (!s) return []
  return [...(s.provenance ? ['signing.provenance'] : []), ...(s.artifacts ? ['signing.artifacts'] : [])]
}
