/**
 * A @sigstore/sign `Signer` over a local private key (node:crypto). The bundle builders hand it the
 * bytes to sign: the DSSE pre-authentication encoding, or the artifact itself for a message signature.
 * ECDSA (P-256 and P-384) signs with SHA-256, as the bundles record a SHA-256 message digest and
 * verifiers hash with it; Ed25519 signs the bytes directly (deterministic signatures).
 */
import { createPublicKey, type KeyObject, sign } from 'node:crypto'
import type { Signature, Signer } from '@sigstore/sign'
import { keyIdOf } from '../util/key-id.ts'

export class KeySigner implements Signer {
  readonly #privateKey: KeyObject
  readonly publicKey: KeyObject
  readonly keyId: string
  readonly #publicKeyPem: string

  constructor(privateKey: KeyObject) {
    this.#privateKey = privateKey
    this.publicKey = createPublicKey(privateKey)
    this.keyId = keyIdOf(this.publicKey)
    this.#publicKeyPem = String(this.publicKey.export({ type: 'spki', format: 'pem' }))
  }

  async sign(data: Buffer): Promise<Signature> {
    const algorithm = this.#privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256'
    return {
      signature: sign(algorithm, data, this.#privateKey),
      key: { $case: 'publicKey', publicKey: this.#publicKeyPem, hint: this.keyId },
    }
  }
}
