/** The exact JSON shape of a sigstore bundle: what the lenient protobuf readers would coerce is refused. */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { bundleShapeProblem } from '../../src/verify/index.ts'
import { FIXTURES } from '../helpers/sigstore-mock-server.ts'

const conformance = path.join(FIXTURES, 'conformance', 'bundle-verify')
const realBundles = (): Array<[string, unknown]> => [
  ...readdirSync(conformance)
    .filter((d) => !d.endsWith('_fail') && existsSync(path.join(conformance, d, 'bundle.sigstore.json')))
    .map((d): [string, unknown] => [
      d,
      JSON.parse(readFileSync(path.join(conformance, d, 'bundle.sigstore.json'), 'utf8')),
    ]),
  [
    'npm 2.0.0',
    JSON.parse(readFileSync(path.join(FIXTURES, 'npm/sigstore-2.0.0/provenance.sigstore.json'), 'utf8')),
  ],
  [
    'npm 1.3.0',
    JSON.parse(readFileSync(path.join(FIXTURES, 'npm/sigstore-1.3.0/publish.sigstore.json'), 'utf8')),
  ],
]

test('every real bundle that should verify has the exact shape', () => {
  const bundles = realBundles()
  assert.ok(bundles.length >= 20, String(bundles.length))
  for (const [name, b] of bundles) assert.equal(bundleShapeProblem(b), null, name)
})

test('coercible values, unknown fields and both oneof alternatives are refused with their JSON path', () => {
  const npm = realBundles().find(([n]) => n === 'npm 2.0.0')![1] as any
  const cases: Array<[(b: any) => void, RegExp]> = [
    [
      (b) => (b.dsseEnvelope.payloadType = [b.dsseEnvelope.payloadType]),
      /\$\.dsseEnvelope\.payloadType is not a string/,
    ],
    [(b) => (b.dsseEnvelope.payload = { a: 1 }), /dsseEnvelope\.payload is not base64/],
    [(b) => (b.dsseEnvelope.payload = 'not base64!'), /dsseEnvelope\.payload is not base64/],
    [(b) => (b.dsseEnvelope.signatures = {}), /signatures is not an array/],
    [(b) => (b.dsseEnvelope.signatures[0].sig = 7), /signatures\[0\]\.sig/],
    [(b) => (b.verificationMaterial.tlogEntries[0].logIndex = '1e3'), /logIndex is not an integer/],
    [(b) => (b.verificationMaterial.tlogEntries[0].logIndex = 1.5), /logIndex is not an integer/],
    [(b) => (b.verificationMaterial.tlogEntries[0].kindVersion.kind = ['dsse']), /kind is not a string/],
    [(b) => (b.dsseEnvelope.payload_type = 'x'), /payload_type is not a field/],
    [(b) => (b.messageSignature = { signature: '' }), /both messageSignature and dsseEnvelope/],
    [(b) => (b.mediaType = null), /mediaType is not a string/],
    [(b) => (b.verificationMaterial = []), /verificationMaterial is not an object/],
  ]
  for (const [mutate, expected] of cases) {
    const b = structuredClone(npm)
    mutate(b)
    assert.match(bundleShapeProblem(b) ?? 'accepted', expected)
  }
})
