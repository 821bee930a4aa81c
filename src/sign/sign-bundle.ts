/**
 * Signing data into sigstore bundles with @sigstore/sign's bundle builders (the bundle format is
 * theirs, not ours). Edge: keyless signing and transparency-log/timestamp witnesses reach the network
 * (Fulcio, Rekor, TSA) at the URLs in the config. The programmatic API other steps reuse:
 * `signDsse` (an attestation, e.g. a manifest) and `signFile` (a message signature over bytes).
 */
import type { KeyObject } from 'node:crypto'
import {
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
  type Bundle,
  type BundleWithDsseEnvelope,
  bundleToJSON,
  type SerializedBundle,
} from '@sigstore/bundle'
import {
  DSSEBundleBuilder,
  FulcioSigner,
  MessageSignatureBundleBuilder,
  RekorWitness,
  type Signer,
  InternalError as SigstoreInternalError,
  TSAWitness,
  type Witness,
} from '@sigstore/sign'
import { IncompleteError, InputError } from '../errors.ts'
import { KeySigner } from './key-signer.ts'

export const PUBLIC_GOOD = {
  fulcioUrl: 'https://fulcio.sigstore.dev',
  rekorUrl: 'https://rekor.sigstore.dev',
} as const

export interface FetchSettings {
  /** per request, milliseconds */
  timeoutMs?: number
  retries?: number
}

export type SigningConfig = FetchSettings &
  (
    | {
        mode: 'key'
        privateKey: KeyObject
        /** upload to Rekor (default true) */
        tlog?: boolean
        rekorUrl?: string
        tsaUrl?: string
      }
    | {
        mode: 'keyless'
        /** an OIDC identity token, or how to get one */
        identityToken: string | (() => Promise<string>)
        fulcioUrl?: string
        rekorUrl?: string
        tsaUrl?: string
      }
  )

export type SignerInfo =
  | { type: 'keyless'; identity: string; issuer: string }
  | { type: 'key'; keyId: string }

/** A DSSE bundle over `payload` (e.g. an in-toto statement with payloadType application/vnd.in-toto+json). */
export async function signDsse(
  payload: Uint8Array,
  payloadType: string,
  config: SigningConfig,
): Promise<SerializedBundle> {
  const builder = new EnvelopeBuilder(builderOptions(config))
  return bundleToJSON(await create(() => builder.create({ data: Buffer.from(payload), type: payloadType })))
}

/**
 * @sigstore/sign copies the key hint into the DSSE envelope's `keyid`. cosign and sigstore-go check an
 * envelope keyid against their own id of the verifying key (not ours: a hex SHA-256 of the SPKI) and skip
 * a signature whose keyid differs ("accepted signatures do not match threshold, Found: 0"). cosign writes
 * no keyid, and the DSSE spec makes it optional and unauthenticated (outside the signed PAE), so detbuild
 * writes none either; the bundle's `verificationMaterial.publicKey.hint` keeps detbuild's key id. The
 * keyid is cleared before the witnesses run, so a Rekor entry logs the envelope exactly as the bundle has it.
 */
class EnvelopeBuilder extends DSSEBundleBuilder {
  protected override async package(
    ...args: Parameters<DSSEBundleBuilder['package']>
  ): Promise<BundleWithDsseEnvelope> {
    const bundle = await super.package(...args)
    for (const signature of bundle.content.dsseEnvelope.signatures) signature.keyid = ''
    return bundle
  }
}

/** A message-signature bundle over the bytes of a file. */
export async function signFile(data: Uint8Array, config: SigningConfig): Promise<SerializedBundle> {
  const builder = new MessageSignatureBundleBuilder(builderOptions(config))
  return bundleToJSON(toBundleV03(await create(() => builder.create({ data: Buffer.from(data) }))))
}

/**
 * @sigstore/sign writes keyless message-signature bundles as v0.2 (a certificate chain of one leaf); v0.3
 * carries that same leaf as `certificate`. Nothing signed or logged changes: only the container.
 */
export function toBundleV03<T extends Bundle>(bundle: T): T {
  const vm = bundle.verificationMaterial
  if (bundle.mediaType !== BUNDLE_V02_MEDIA_TYPE || vm.content.$case !== 'x509CertificateChain') return bundle
  const leaf = vm.content.x509CertificateChain.certificates[0]
  if (!leaf) return bundle
  return {
    ...bundle,
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: { ...vm, content: { $case: 'certificate', certificate: leaf } },
  }
}

function builderOptions(config: SigningConfig): { signer: Signer; witnesses: Witness[] } {
  const fetch = { timeout: config.timeoutMs ?? 10_000, retry: { retries: config.retries ?? 2 } }
  const witnesses: Witness[] = []
  let signer: Signer
  if (config.mode === 'key') {
    signer = new KeySigner(config.privateKey)
  } else {
    const token = config.identityToken
    signer = new FulcioSigner({
      fulcioBaseURL: config.fulcioUrl ?? PUBLIC_GOOD.fulcioUrl,
      identityProvider: { getToken: typeof token === 'string' ? async () => token : token },
      ...fetch,
    })
  }
  if (config.mode === 'keyless' || config.tlog !== false)
    witnesses.push(
      new RekorWitness({
        rekorBaseURL: config.rekorUrl ?? PUBLIC_GOOD.rekorUrl,
        entryType: 'dsse',
        fetchOnConflict: false,
        ...fetch,
      }),
    )
  if (config.tsaUrl) witnesses.push(new TSAWitness({ tsaBaseURL: config.tsaUrl, ...fetch }))
  return { signer, witnesses }
}

async function create<T extends Bundle>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (e) {
    if (e instanceof InputError || e instanceof IncompleteError) throw e
    if (e instanceof SigstoreInternalError) {
      const why = causeText(e)
      switch (e.code) {
        case 'IDENTITY_TOKEN_PARSE_ERROR':
          throw new InputError('SIGN_IDENTITY_TOKEN_INVALID', 'the identity token is not a JWT', { cause: e })
        case 'IDENTITY_TOKEN_READ_ERROR':
          throw new IncompleteError(
            'SIGN_IDENTITY_TOKEN_UNAVAILABLE',
            `cannot get an identity token: ${why}`,
            { cause: e },
          )
        case 'CA_CREATE_SIGNING_CERTIFICATE_ERROR':
          throw new IncompleteError('SIGN_FULCIO_FAILED', `Fulcio did not issue a certificate: ${why}`, {
            cause: e,
          })
        case 'TLOG_CREATE_ENTRY_ERROR':
        case 'TLOG_FETCH_ENTRY_ERROR':
          throw new IncompleteError('SIGN_REKOR_FAILED', `Rekor did not log the signature: ${why}`, {
            cause: e,
          })
        case 'TSA_CREATE_TIMESTAMP_ERROR':
          throw new IncompleteError('SIGN_TSA_FAILED', `the timestamp authority did not answer: ${why}`, {
            cause: e,
          })
      }
    }
    throw new IncompleteError('SIGN_FAILED', `signing failed: ${causeText(e)}`, { cause: e })
  }
}

function causeText(e: unknown): string {
  const parts: string[] = []
  let cur: unknown = e
  for (let depth = 0; cur && depth < 4; depth++) {
    parts.push(cur instanceof Error ? cur.message : String(cur))
    cur = cur instanceof Error ? cur.cause : undefined
  }
  return parts.join(': ')
}
