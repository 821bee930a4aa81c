/** `run` → the sign step: the run's signing choice → SignWorkspaceOptions → signWorkspace. */
import { ExitCode } from '../../errors.ts'
import type { SignaturesManifest, SignerInfo, SigningConfig, SignWorkspaceOptions } from '../../sign/index.ts'
import { plural } from '../../util/plural.ts'
import type { RunOptions } from '../options.ts'
import type { StepResult } from '../pipeline.ts'
import type { SignatureFact } from '../types.ts'
import type { Carried, StepAdapter } from './carried.ts'
import { signingOf, skippedSigning } from './signing.ts'

/** Pure. */
export function toSignOptions(o: RunOptions, signing: SigningConfig): SignWorkspaceOptions {
  return { out: o.out, signing, artifacts: o.sign.artifacts }
}

function describeSigner(s: SignerInfo): string {
  return s.type === 'key' ? `key ${s.keyId}` : `${s.identity} (${s.issuer})`
}

/** Pure. */
export function toSignStepResult(manifest: SignaturesManifest, mode: 'key' | 'keyless'): StepResult<Carried> {
  const signatures: SignatureFact[] = manifest.bundles.map((b) => ({
    file: b.file,
    kind: b.kind,
    subject: b.subject,
    signer: describeSigner(b.signer),
  }))
  const signer = manifest.bundles[0]?.signer
  return {
    exitCode: ExitCode.ok,
    detail: `${plural(signatures.length, 'signature bundle')}, ${mode}`,
    facts: { sign: { mode, signatures } },
    ...(signer ? { carry: { signer } } : {}),
  }
}

export const signStep: StepAdapter = async (o, c) => {
  const signing = await signingOf(o, c)
  if (signing.mode === 'unsigned' || signing.mode === 'none')
    return { ...skippedSigning(signing.mode, 'sign'), carry: { signing } }
  const { signWorkspace } = await import('../../sign/index.ts')
  const result = toSignStepResult(await signWorkspace(toSignOptions(o, signing.config)), signing.mode)
  return { ...result, carry: { ...result.carry, signing } }
}
