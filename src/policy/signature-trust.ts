/**
 * Edge (files, network through src/verify): the trust material for the signing rules, from the same
 * flags as `detbuild verify` (TrustFlags). The policy core only sees a `SignatureTrust` function.
 */
import { loadTrust, resolvePolicy, type Trust, type TrustInput, verifyBundle } from '../verify/index.ts'
import type { Policy, PolicyInputs, SignatureTrust } from './types.ts'

/**
 * Whether any trust flag was given (`insecureIgnoreTlog: false` is commander's default, not a choice;
 * `offline` says how to get trust material, not whom to trust).
 */
export function trustGiven(flags: TrustInput | undefined): flags is TrustInput {
  return (
    flags !== undefined &&
    Object.entries(flags).some(([k, v]) => k !== 'offline' && v !== undefined && v !== false)
  )
}

/**
 * The verifier of `detbuild verify` with loaded trust material; `read` overrides `inputs.signedFiles`,
 * `blobs` are files held outside the workspace (see SignatureTrust).
 */
export function signatureTrust(
  request: Trust['request'],
  read?: (name: string) => Uint8Array | undefined,
  blobs?: readonly Uint8Array[],
): SignatureTrust {
  return {
    verify: (bundle, artifact) => verifyBundle({ bundle, artifact, ...request }),
    ...(read ? { read } : {}),
    ...(blobs && blobs.length > 0 ? { blobs } : {}),
  }
}

/** Whether evaluating `policy` on `inputs` verifies any bundle (then the trust material is loaded). */
export function needsSignatureTrust(policy: Policy, inputs: PolicyInputs): boolean {
  const s = policy.signing
  return s !== undefined && (s.provenance === true || s.artifacts === true) && inputs.signatures !== undefined
}

/**
 * Checks the trust flags (usage errors are exit 2 before anything is read) and returns a loader that
 * loads the key or trusted root only when the policy verifies bundles (a TUF fetch is network).
 */
export function prepareSignatureTrust(
  flags: TrustInput | undefined,
  cwd: string,
  tufCachePath?: string,
): (policy: Policy, inputs: PolicyInputs) => Promise<SignatureTrust | undefined> {
  if (!trustGiven(flags)) return async () => undefined
  // a public key held in memory (`detbuild run`'s own signing key) is checked when it is loaded
  if (flags.publicKey === undefined) resolvePolicy(flags)
  return async (policy, inputs) =>
    needsSignatureTrust(policy, inputs)
      ? signatureTrust((await loadTrust(flags, cwd, tufCachePath)).request)
      : undefined
}
