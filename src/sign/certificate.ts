/** Who a keyless bundle was signed by: the Fulcio certificate's identity and OIDC issuer. Pure. */
import type { SerializedBundle } from '@sigstore/bundle'
import { X509Certificate } from '@sigstore/core'

const OID_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1'
const OID_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8'

/** The signing certificate of a bundle (DER, base64), if it has one. */
export function bundleCertificate(bundle: SerializedBundle): string | undefined {
  const vm = bundle.verificationMaterial
  return vm?.certificate?.rawBytes ?? vm?.x509CertificateChain?.certificates[0]?.rawBytes
}

export function certificateIdentity(derBase64: string): { identity: string; issuer: string } {
  const cert = X509Certificate.parse(Buffer.from(derBase64, 'base64'))
  const v2 = cert.extension(OID_ISSUER_V2)
  const issuer = v2
    ? (v2.valueObj.subs?.[0]?.value.toString('utf8') ?? '')
    : (cert.extension(OID_ISSUER_V1)?.value.toString('utf8') ?? '')
  return { identity: cert.subjectAltName ?? '', issuer }
}
