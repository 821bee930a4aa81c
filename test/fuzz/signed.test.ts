/**
 * Fuzz: signed inputs. Sigstore bundles (`verify --bundle`) are mutated structurally; evidence archives
 * (`verify --evidence`, `inspect`) byte by byte and member by member. Besides exit 0–3 without a trace:
 * a mutated signed input never verifies unless the signed bytes are unchanged.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import fc from 'fast-check'
import { makeProject, removeProject, TSC_ENV } from '../builder/helpers.ts'
import { craftTarGz } from '../evidence/helpers.ts'
import { FIXTURES } from '../helpers/sigstore-mock-server.ts'
import { breach, check, OSV_RECORDS, runChecked } from './harness.ts'
import {
  type ByteStep,
  byteMutation,
  type JsonMutation,
  jsonMutation,
  mutateBytes,
  mutateJson,
} from './mutate.ts'

const EMPTY_ROOT = JSON.stringify({
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  ctlogs: [],
  certificateAuthorities: [],
  timestampAuthorities: [],
})
const TRUST = ['--key', 'k.pub', '--trusted-root', 'root.json', '--insecure-ignore-tlog']
const EVIDENCE = '.detbuild/evidence.tar.gz'
/** A real build of fixtures/ts-lib runs its own TypeScript compiler, offline, at a fixed time. */
const ENV = { ...TSC_ENV, SOURCE_DATE_EPOCH: '1700000000' }

let dir: string
/** The built artifact (from build.json) and its two signatures: the artifact's own and the provenance's. */
let ARTIFACT: string
let BUNDLES: { message: string; dsse: string }
let genuineEvidence: Buffer
let genuineMembers: Member[]
const dispose: Array<() => void> = []
after(() => {
  for (const d of dispose) d()
})

before(async () => {
  // a real workspace, as a user's pipeline leaves it: bundle validates every file and every input link
  dir = makeProject('ts-lib')
  dispose.push(() => removeProject(dir))
  writeFileSync(path.join(dir, 'root.json'), EMPTY_ROOT)
  const setup = async (argv: string[]) => {
    const r = await runChecked(argv, dir, 'none (setup)', ENV)
    if (r.code !== 0)
      throw new Error(`setup: detbuild ${argv.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`)
  }
  for (const argv of [
    ['build', '--config', 'detbuild.offline.json'],
    ['keygen', '--algorithm', 'ed25519', '--output-prefix', 'k'],
    ['sbom'],
    ['scan', '--offline-db', OSV_RECORDS, '--no-cache'],
    ['policy'],
    ['sign', '--key', 'k.key', '--no-tlog', '--artifacts'],
    ['bundle', '--key', 'k.key', '--no-tlog'],
  ])
    await setup(argv)
  const build = JSON.parse(readFileSync(path.join(dir, '.detbuild', 'build.json'), 'utf8')) as {
    outputs: Array<{ path: string }>
  }
  ARTIFACT = `.detbuild/${build.outputs[0]!.path}`
  BUNDLES = { message: `${ARTIFACT}.sigstore.json`, dsse: '.detbuild/provenance.sigstore.json' }
  for (const argv of [
    ['verify', ARTIFACT, '--bundle', BUNDLES.message, ...TRUST],
    ['verify', ARTIFACT, '--bundle', BUNDLES.dsse, ...TRUST],
    ['verify', ARTIFACT, '--evidence', EVIDENCE, ...TRUST],
  ])
    await setup(argv)
  genuineEvidence = readFileSync(path.join(dir, EVIDENCE))
  genuineMembers = readMembers(genuineEvidence)!
})

// ---- what is signed ---------------------------------------------------------------------------------

/**
 * The bytes a sigstore bundle signs, as the verifier must see them: the message digest and signature,
 * or the DSSE payload type, payload and signatures (base64 decoded). undefined: not readable as JSON,
 * which counts as changed.
 */
function signedContent(text: string, withCertificate = false): string | undefined {
  try {
    return signedContentOf(text, withCertificate)
  } catch {
    // too deep to even stringify: certainly not the original (shallow) signed content
    return undefined
  }
}

function signedContentOf(text: string, withCertificate: boolean): string | undefined {
  let b: Record<string, unknown>
  try {
    b = JSON.parse(text.replace(/^\ufeff/, '')) as Record<string, unknown>
  } catch {
    return undefined
  }
  if (b === null || typeof b !== 'object') return undefined
  const dec = (s: unknown) =>
    typeof s === 'string' ? Buffer.from(s, 'base64').toString('hex') : JSON.stringify(s)
  const ms = b.messageSignature as Record<string, Record<string, unknown> | undefined> | undefined
  const de = b.dsseEnvelope as Record<string, unknown> | undefined
  const vm = b.verificationMaterial as Record<string, unknown> | undefined
  return JSON.stringify({
    // keyless: the certificate binds the signature to the identity (base64 DER, decoded)
    ...(withCertificate
      ? {
          certificate: dec((vm?.certificate as { rawBytes?: unknown } | undefined)?.rawBytes),
          // only the leaf: the intermediates come from the trusted root, a bundle's copies are not trusted
          leaf: dec(
            (vm?.x509CertificateChain as { certificates?: Array<{ rawBytes?: unknown }> } | undefined)
              ?.certificates?.[0]?.rawBytes,
          ),
        }
      : {}),
    message:
      ms === undefined
        ? null
        : {
            algorithm: hashAlgorithm(ms?.messageDigest?.algorithm),
            digest: dec(ms?.messageDigest?.digest),
            signature: dec(ms?.signature),
          },
    dsse:
      de === undefined
        ? null
        : {
            payloadType: JSON.stringify(de?.payloadType),
            payload: dec(de?.payload),
            signatures: Array.isArray(de?.signatures)
              ? de.signatures.map((s: { sig?: unknown } | null) => dec(s?.sig))
              : JSON.stringify(de?.signatures),
          },
  })
}

/** protobuf JSON allows an enum by name or by number: both spell the same algorithm. */
function hashAlgorithm(value: unknown): string {
  const names = ['HASH_ALGORITHM_UNSPECIFIED', 'SHA2_256', 'SHA2_384', 'SHA2_512', 'SHA3_256', 'SHA3_384']
  if (typeof value === 'string') return value
  return typeof value === 'number' && Number.isInteger(value) && names[value]
    ? names[value]
    : `(${JSON.stringify(value)})`
}

interface Member {
  name: string
  data: Buffer
}

/**
 * The regular-file members of a tar.gz, read independently of detbuild (gunzip, then 512-byte ustar
 * headers, pax `path` records honoured). undefined: not readable, which counts as changed.
 */
function readMembers(archive: Buffer): Member[] | undefined {
  let tar: Buffer
  try {
    tar = gunzipSync(archive)
  } catch {
    return undefined
  }
  const out: Member[] = []
  let paxPath: string | undefined
  for (let at = 0; at + 512 <= tar.length; ) {
    const h = tar.subarray(at, at + 512)
    if (h.every((x) => x === 0)) return out
    const field = (from: number, len: number) =>
      h
        .subarray(from, from + len)
        .toString('latin1')
        .replace(/\0.*$/s, '')
    const size = Number.parseInt(field(124, 12).trim() || '0', 8)
    if (!Number.isFinite(size) || size < 0) return undefined
    const type = String.fromCharCode(h[156] ?? 0)
    const prefix = field(345, 155)
    const name = paxPath ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100))
    const data = tar.subarray(at + 512, at + 512 + size)
    if (data.length < size) return undefined
    if (type === 'x') {
      const m = /\d+ path=([^\n]*)\n/.exec(data.toString('utf8'))
      paxPath = m?.[1]
    } else {
      paxPath = undefined
      if (type === '0' || type === '\0') out.push({ name, data: Buffer.from(data) })
      else out.push({ name: `${name} (type ${type})`, data: Buffer.alloc(0) })
    }
    at += 512 + Math.ceil(size / 512) * 512
  }
  return undefined
}

function sameMembers(a: Member[] | undefined, b: Member[]): boolean {
  if (!a || a.length !== b.length) return false
  return a.every((m, i) => m.name === b[i]!.name && m.data.equals(b[i]!.data))
}

/** Whether a changed member changes signed content (only the manifest's own bundle has unsigned parts). */
function memberSignedChange(name: string, before: Buffer, after: Buffer): boolean {
  if (before.equals(after)) return false
  if (name === 'manifest.sigstore.json')
    return signedContent(before.toString('utf8')) !== signedContent(after.toString('utf8'))
  return true
}

// ---- sigstore bundles ---------------------------------------------------------------------------------

test('sigstore bundles, mutated: verify exits 0–3, and passes only when the signed bytes are unchanged', async () => {
  const originals = {
    message: readFileSync(path.join(dir, BUNDLES.message), 'utf8'),
    dsse: readFileSync(path.join(dir, BUNDLES.dsse), 'utf8'),
  }
  const signed = { message: signedContent(originals.message), dsse: signedContent(originals.dsse) }
  const arb = fc.tuple(fc.constantFrom<'message' | 'dsse'>('message', 'dsse'), jsonMutation)
  await check(120, arb, async ([kind, m]) => {
    const mutated = mutateJson(originals[kind], m)
    writeFileSync(path.join(dir, 'fuzz.sigstore.json'), mutated.text)
    const argv = ['--json', 'verify', ARTIFACT, '--bundle', 'fuzz.sigstore.json', ...TRUST]
    const what = `fuzz.sigstore.json (the ${kind} bundle): ${mutated.description}`
    const r = await runChecked(argv, dir, what)
    if (r.code === 0 && signedContent(mutated.text) !== signed[kind])
      breach('a bundle with changed signed bytes verified', argv, what, r)
  })
})

// ---- evidence archives ----------------------------------------------------------------------------

test('evidence archives, byte-mutated: verify --evidence and inspect exit 0–3; verify passes only on unchanged members', async () => {
  await check(150, fc.tuple(byteMutation, fc.boolean()), async ([steps, inspect]) => {
    const mutated = mutateBytes(genuineEvidence, steps)
    writeFileSync(path.join(dir, 'fuzz.tar.gz'), mutated.bytes)
    const what = `fuzz.tar.gz (the evidence archive): ${mutated.description}`
    if (inspect) {
      await runChecked(['--json', 'inspect', 'fuzz.tar.gz'], dir, what)
      return
    }
    const argv = ['--json', 'verify', ARTIFACT, '--evidence', 'fuzz.tar.gz', ...TRUST]
    const r = await runChecked(argv, dir, what)
    if (r.code === 0 && !sameMembers(readMembers(mutated.bytes), genuineMembers))
      breach('an evidence archive with changed members verified', argv, what, r)
  })
})

/** Documented refusals (README): a changed or missing member, an unlisted one, a name twice. */
type MemberEdit =
  | { kind: 'content'; pick: number; json: JsonMutation; bytes: ByteStep[] }
  | { kind: 'delete'; pick: number }
  | { kind: 'add'; name: string }
  | { kind: 'duplicate'; pick: number; json: JsonMutation; bytes: ByteStep[] }
  | { kind: 'rename'; pick: number; name: string }

const hostileName = fc.constantFrom(
  'extra.json',
  '../escape.json',
  '/abs.json',
  'artifacts/../../x',
  'manifest.json/',
  'a\\b.json',
  'UPPER.JSON',
  'sbom.cdx.json\u0000.txt',
  './manifest.json',
  'évidence.json',
)

const memberEdit: fc.Arbitrary<MemberEdit> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('content' as const),
      pick: fc.nat(),
      json: jsonMutation,
      bytes: byteMutation,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('add' as const), name: hostileName }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('duplicate' as const),
      pick: fc.nat(),
      json: jsonMutation,
      bytes: byteMutation,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('rename' as const), pick: fc.nat(), name: hostileName }),
  },
)

/** A changed copy of a member's bytes: structurally for JSON, byte by byte otherwise. */
function changeMember(m: Member, json: JsonMutation, bytes: ByteStep[]) {
  if (m.name.endsWith('.json')) {
    try {
      const r = mutateJson(m.data.toString('utf8'), json)
      return { data: Buffer.from(r.text), description: r.description }
    } catch {}
  }
  const r = mutateBytes(m.data, bytes)
  return { data: r.bytes, description: r.description }
}

test('evidence archives, re-packed with a changed, missing, extra or duplicated member: never verify', async () => {
  await check(120, fc.tuple(memberEdit, fc.boolean()), async ([edit, inspect]) => {
    const members = genuineMembers.map((m) => ({ ...m }))
    let description: string
    let signedChange = true
    switch (edit.kind) {
      case 'content': {
        const i = edit.pick % members.length
        const before = members[i]!
        const c = changeMember(before, edit.json, edit.bytes)
        members[i] = { name: before.name, data: c.data }
        description = `member ${before.name}: ${c.description}`
        signedChange = memberSignedChange(before.name, before.data, c.data)
        break
      }
      case 'delete': {
        const [gone] = members.splice(edit.pick % members.length, 1)
        description = `member ${gone!.name} removed`
        break
      }
      case 'add':
        members.push({ name: edit.name, data: Buffer.from('{"extra":true}\n') })
        description = `member ${JSON.stringify(edit.name)} added`
        break
      case 'duplicate': {
        const i = edit.pick % members.length
        const c = changeMember(members[i]!, edit.json, edit.bytes)
        members.push({ name: members[i]!.name, data: c.data })
        description = `member ${members[i]!.name} appears twice, the second ${c.description}`
        break
      }
      case 'rename': {
        const i = edit.pick % members.length
        description = `member ${members[i]!.name} renamed to ${JSON.stringify(edit.name)}`
        members[i] = { name: edit.name, data: members[i]!.data }
        break
      }
    }
    let archive: Buffer
    try {
      archive = craftTarGz(members.map((m) => ({ path: m.name, data: m.data })))
    } catch {
      return // a name tar cannot encode without pax: not an archive this test can make
    }
    // a name with a NUL ends at the NUL for every tar reader: "sbom.cdx.json\u0000.txt" is sbom.cdx.json,
    // so an archive whose members read back exactly as the genuine ones changed nothing signed
    if (sameMembers(readMembers(archive), genuineMembers)) signedChange = false
    writeFileSync(path.join(dir, 'fuzz.tar.gz'), archive)
    const what = `fuzz.tar.gz (re-packed evidence): ${description}`
    if (inspect) {
      await runChecked(['--json', 'inspect', 'fuzz.tar.gz'], dir, what)
      return
    }
    const argv = ['--json', 'verify', ARTIFACT, '--evidence', 'fuzz.tar.gz', ...TRUST]
    const r = await runChecked(argv, dir, what)
    if (r.code === 0 && signedChange)
      breach('a re-packed evidence archive with changed content verified', argv, what, r)
  })
})

// ---- real keyless bundles (sigstore public good, verified offline) ---------------------------------

/** The vendored sigstore fixtures, fixtures/sigstore/ (see its README); SIGSTORE_FIXTURES overrides. */
const SIGSTORE = process.env.SIGSTORE_FIXTURES ?? FIXTURES

test('real keyless npm bundles, mutated: verify exits 0–3, passes only with unchanged signed bytes and certificate', async () => {
  if (!existsSync(path.join(SIGSTORE, 'cases.json')))
    throw new Error(
      `sigstore fixtures missing: expected ${SIGSTORE}/cases.json (fixtures/sigstore/ in the repository, or the folder SIGSTORE_FIXTURES names)`,
    )
  const cases = (
    JSON.parse(readFileSync(path.join(SIGSTORE, 'cases.json'), 'utf8')) as {
      cases: Array<{
        artifact: string
        bundle: string
        identity: string | null
        issuer: string | null
        key?: string
      }>
    }
  ).cases.filter((c) => c.identity !== null && c.issuer !== null)
  if (cases.length === 0 || !existsSync(path.join(SIGSTORE, 'trusted_root.json')))
    throw new Error(`sigstore fixtures incomplete: no keyless case or trusted_root.json in ${SIGSTORE}`)
  const originals = cases.map((c) => readFileSync(path.join(SIGSTORE, c.bundle), 'utf8'))
  await check(30, fc.tuple(fc.nat(), jsonMutation), async ([pick, m]) => {
    const i = pick % cases.length
    const c = cases[i]!
    const mutated = mutateJson(originals[i]!, m)
    writeFileSync(path.join(dir, 'fuzz-keyless.sigstore.json'), mutated.text)
    const argv = [
      '--json',
      'verify',
      path.join(SIGSTORE, c.artifact),
      '--bundle',
      'fuzz-keyless.sigstore.json',
      '--trusted-root',
      path.join(SIGSTORE, 'trusted_root.json'),
      '--certificate-identity',
      c.identity!,
      '--certificate-oidc-issuer',
      c.issuer!,
    ]
    const what = `fuzz-keyless.sigstore.json (${c.bundle}): ${mutated.description}`
    const r = await runChecked(argv, dir, what)
    if (r.code === 0 && signedContent(mutated.text, true) !== signedContent(originals[i]!, true))
      breach('a keyless bundle with changed signed bytes verified', argv, what, r)
  })
})
