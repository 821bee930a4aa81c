/**
 * Loopback fakes of Fulcio, Rekor and a timestamp authority: @sigstore/mock's transport-free handlers
 * mounted in one real node:http server on 127.0.0.1:0, plus the trusted_root.json that trusts them.
 * Fault switch: `fail` makes every request answer 500 (service down).
 */
import { createHash, generateKeyPairSync } from 'node:crypto'
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {
  fulcioHandler,
  type HandlerFn,
  initializeCA,
  initializeCTLog,
  initializeTLog,
  initializeTSA,
  rekorHandler,
  tsaHandler,
} from '@sigstore/mock'
import { stableJson } from '../../src/util/canonical-json.ts'
import { digestBytes } from '../../src/util/digest.ts'

export interface SigstoreMock {
  url: string
  fulcioUrl: string
  rekorUrl: string
  tsaUrl: string
  /** trusted_root.json trusting this mock's CA, log, CT log and TSA */
  trustedRoot: unknown
  /** requests seen, by path */
  requests: string[]
  /** answer 500 to everything while true */
  fail: boolean
  close(): Promise<void>
}

const b64 = (bytes: ArrayBufferView): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')

const LONG_AGO = '2000-01-01T00:00:00Z'

/** An unsigned JWT with the claims a Fulcio mock needs (it does not check signatures). */
export function fakeIdentityToken(claims: { sub: string; iss: string; [k: string]: unknown }): string {
  const part = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ aud: 'sigstore', ...claims })}.${Buffer.from('sig').toString('base64url')}`
}

export async function startSigstoreMock(): Promise<SigstoreMock> {
  const keyPair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const routes = new Map<string, HandlerFn>()
  const requests: string[] = []
  const state = { fail: false }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname
      requests.push(path)
      const handler = routes.get(path)
      if (state.fail || req.method !== 'POST' || !handler) {
        res.writeHead(state.fail ? 500 : 404, { 'content-type': 'text/plain' }).end('mock: no')
        return
      }
      handler(canonicalizeEntry(path, Buffer.concat(chunks).toString('utf8'))).then(
        ({ statusCode, response, contentType }) => {
          res.writeHead(statusCode, { 'content-type': contentType ?? 'text/plain' })
          res.end(
            typeof response === 'string'
              ? response
              : Buffer.from(response.buffer, response.byteOffset, response.byteLength),
          )
        },
        (e: unknown) => res.writeHead(500).end(String(e)),
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  // One whole-second clock for the fake CA, CT log and TSA. With the real clock, @sigstore/mock's TSA writes
  // the RFC 3161 genTime with the milliseconds' trailing zeros dropped (".5Z" when ms = 500), which
  // @sigstore/core's parser rejects as "invalid time": one signature in ten failed at random. The Date is
  // set after the services exist (mutating it moves every service's clock) so that it is not earlier than
  // the certificates they made at start, and not later than any signing; certificates issued at this time
  // stay valid for ten minutes, far longer than a test run.
  const clock = new Date()
  const ctlog = await initializeCTLog(keyPair, clock)
  const ca = await initializeCA(keyPair, ctlog, clock)
  const tlog = await initializeTLog(url, keyPair)
  const tsa = await initializeTSA(keyPair, clock)
  clock.setTime(Math.floor(Date.now() / 1000) * 1000)
  for (const h of [fulcioHandler(ca), rekorHandler(tlog), tsaHandler(tsa)]) routes.set(h.path, h.fn)

  const logKey = (publicKey: ArrayBufferView, logId: ArrayBufferView, baseUrl: string) => ({
    baseUrl,
    hashAlgorithm: 'SHA2_256',
    publicKey: {
      rawBytes: b64(publicKey),
      keyDetails: 'PKIX_ECDSA_P256_SHA_256',
      validFor: { start: LONG_AGO },
    },
    logId: { keyId: b64(logId) },
  })
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [logKey(tlog.publicKey, createHash('sha256').update(tlog.publicKey).digest(), url)],
    ctlogs: [logKey(ctlog.publicKey, ctlog.logID, url)],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: url,
        certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
        validFor: { start: LONG_AGO },
      },
    ],
    timestampAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'tsa' },
        uri: url,
        certChain: {
          certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }],
        },
        validFor: { start: LONG_AGO },
      },
    ],
  }

  return {
    url,
    fulcioUrl: url,
    rekorUrl: url,
    tsaUrl: url,
    trustedRoot,
    requests,
    get fail() {
      return state.fail
    },
    set fail(v: boolean) {
      state.fail = v
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((e) => (e ? reject(e) : resolve()))
      }),
  }
}

/**
 * Real Rekor stores a `dsse` entry in canonical form (hashes and signatures, not the proposed
 * envelope); @sigstore/mock's v1 handler echoes the request, so the fake does that step itself.
 */
function canonicalizeEntry(path: string, body: string): string {
  if (path !== '/api/v1/log/entries') return body
  const entry = JSON.parse(body) as {
    kind?: string
    apiVersion?: string
    spec?: { proposedContent?: { envelope: string; verifiers: string[] } }
  }
  const proposed = entry.spec?.proposedContent
  if (entry.kind !== 'dsse' || !proposed) return body
  const envelope = JSON.parse(proposed.envelope) as { payload: string; signatures: Array<{ sig: string }> }
  const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex')
  return JSON.stringify({
    apiVersion: entry.apiVersion,
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(proposed.envelope) },
      payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(envelope.payload, 'base64')) },
      signatures: envelope.signatures.map((sig, i) => ({
        signature: sig.sig,
        verifier: proposed.verifiers[i] ?? '',
      })),
    },
  })
}

// ---- small helpers shared by test/sign and test/verify ----

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..')
/** real sigstore bundles, conformance cases and trust material, vendored in the repository (see its README) */
export const FIXTURES = path.resolve(REPO_ROOT, 'fixtures/sigstore')

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com'
export const WORKFLOW_IDENTITY = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main'

/** A temp project with a workspace holding an in-toto provenance statement and one artifact. */
export async function makeWorkspace(
  artifact = 'tarball bytes\n',
): Promise<{ dir: string; out: string; artifactPath: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'detbuild-sign-'))
  const out = path.join(dir, '.detbuild')
  await mkdir(path.join(out, 'artifacts'), { recursive: true })
  const artifactPath = path.join(out, 'artifacts', 'app-1.0.0.tgz')
  await writeFile(artifactPath, artifact)
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [
      {
        name: 'app-1.0.0.tgz',
        digest: {
          sha256: createHash('sha256').update(artifact).digest('hex'),
          sha512: createHash('sha512').update(artifact).digest('hex'),
        },
      },
    ],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: { buildDefinition: { buildType: 'https://detbuild.dev/npm/v1' } },
  }
  await writeFile(path.join(out, 'provenance.intoto.json'), `${JSON.stringify(statement, null, 2)}\n`)
  return { dir, out, artifactPath }
}

/**
 * makeWorkspace plus what `bundle` needs: a build.json listing the artifact and a provenance of the SLSA
 * v1 shape (bundle signs only that).
 */
export async function makeBundlableWorkspace(): Promise<{ dir: string; out: string; artifactPath: string }> {
  const ws = await makeWorkspace()
  const d = digestBytes(await readFile(ws.artifactPath))
  await writeFile(
    path.join(ws.out, 'build.json'),
    stableJson({
      schemaVersion: 1,
      sourceDateEpoch: 1700000000,
      reproducibility: { checked: false, reproducible: null, report: null },
      outputs: [{ path: 'artifacts/app-1.0.0.tgz', ...d }],
    }),
  )
  const statementFile = path.join(ws.out, 'provenance.intoto.json')
  const statement = JSON.parse(await readFile(statementFile, 'utf8'))
  statement.predicate = {
    buildDefinition: { buildType: 'https://detbuild.dev/build-types/npm/v1', externalParameters: {} },
    runDetails: { builder: { id: 'https://detbuild.dev/builders/local/v1' } },
  }
  await writeFile(statementFile, stableJson(statement))
  return ws
}

export interface CliRun {
  code: number
  stdout: string
  stderr: string
  json: () => unknown
}

/** Runs the CLI in-process. */
export async function runCli(argv: string[], cwd: string, env: Record<string, string> = {}): Promise<CliRun> {
  const { main } = await import('../../src/cli/main.ts')
  let stdout = ''
  let stderr = ''
  const code = await main(argv, {
    env,
    cwd,
    color: false,
    stdout: (t) => {
      stdout += t
    },
    stderr: (t) => {
      stderr += t
    },
  })
  return { code, stdout, stderr, json: () => JSON.parse(stdout) }
}
