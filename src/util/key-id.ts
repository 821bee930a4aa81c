import { createHash, createPublicKey, type KeyObject } from 'node:crypto'

/** A key's id: hex SHA-256 of its DER SubjectPublicKeyInfo (stable across PEM formatting). Private keys give their public key's id. */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key
  return createHash('sha256')
    .update(publicKey.export({ format: 'der', type: 'spki' }))
    .digest('hex')
}
