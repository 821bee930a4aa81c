/**
 * Edge: one runner per step, each calling that step's core (never the CLI, never a subprocess) and
 * turning its result into summary facts. The cores do the reading and writing.
 */
import { createPublicKey } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Context } from '../config/index.ts'
import { type ErrorCode, ExitCode, InputError } from '../errors.ts'
import { failsThreshold } from '../scan/index.ts'
import type { SignerInfo, SigningConfig } from '../sign/index.ts'
import { stableJson } from '../util/canonical-json.ts'
import { readTextFile, toPosixRelative, writeFileAtomic } from '../util/fs.ts'
import type { TrustFlags } from '../verify/index.ts'
import { readBuildManifest, WorkspaceFiles } from '../workspace/index.ts'
import type { RunOptions } from './options.ts'
import type { StepResult, StepRunner } from './pipeline.ts'
import type { StepName } from './steps.ts'
import type { FindingFact, RuleFact, SignatureFact } from './types.ts'

/** A trusted root that trusts nothing: key-signed bundles without a log entry need no sigstore service. */
export const EMPTY_TRUSTED_ROOT = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  ctlogs: [],
  certificateAuthorities: [],
  timestampAuthorities: [],
}

function describeSigner(s: SignerInfo): string {
  return s.type === 'key' ? `key ${s.keyId}` : `${s.identity} (${s.issuer})`
}

export interface StepRunners {
  runners: Record<StepName, StepRunner>
  /** removes the run's scratch files (a derived public key, an empty trusted root) */
  dispose(): Promise<void>
}

/** Steps whose module is not part of this build (none: kept for optional modules). */
export const UNAVAILABLE_STEPS: ReadonlySet<StepName> = new Set<StepName>()

/** Whether a keyless identity token can be had without asking (flag, SIGSTORE_ID_TOKEN, GitHub OIDC). */
export function hasAmbientIdentity(o: Pick<RunOptions, 'env' | 'sign'>): boolean {
  return Boolean(
    o.sign.identityToken ||
      o.env.SIGSTORE_ID_TOKEN ||
      (o.env.ACTIONS_ID_TOKEN_REQUEST_URL && o.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN),
  )
}

export function createStepRunners(o: RunOptions & { context: Context }): StepRunners {
  // one source date, cache root and config file for the whole run: the context's (config/context.ts)
  const env = o.context.env
  const ws = (f: string) => toPosixRelative(o.out, f)

  let signing: Promise<SigningConfig> | undefined
  let signed: SignerInfo | undefined
  let scratch: string | undefined
  let bundleSkipped = false
  let warnedUnsigned = false

  const runners: Record<StepName, StepRunner> = {
    async build() {
      const { runBuild } = await import('../build/index.ts')
      const { isWithheldEnvName } = await import('../util/secret-env.ts')
      const passwordEnv = o.sign.keyPasswordEnv ?? 'DETBUILD_KEY_PASSWORD'
      // the build step never holds this run's own credentials, whatever its config says
      const buildEnv: NodeJS.ProcessEnv = {}
      for (const [name, value] of Object.entries(env))
        if (name !== passwordEnv && !isWithheldEnvName(name)) buildEnv[name] = value
      const result = await runBuild({
        cwd: o.cwd,
        out: o.out,
        check: o.build.check,
        context: o.context,
        registry: o.build.registry,
        frozenLock: o.build.frozenLock,
        hostEnv: buildEnv,
        // the passphrase of this run's signing key is never a build's to read
        withheldEnv: [passwordEnv],
        log: o.log,
      })
      const m = result.manifest
      const failed = result.reproducible === false
      const artifacts = result.outputs.map((a) => ({ path: a.path, size: a.size, sha256: a.sha256 }))
      return {
        exitCode: failed ? ExitCode.checkFailed : ExitCode.ok,
        ...(failed ? { code: 'BUILD_NOT_REPRODUCIBLE' } : {}),
        detail: failed
          ? `${result.verdict ?? 'NOT reproducible'} (see ${WorkspaceFiles.reproReportMd})`
          : `${artifacts.length} artifact(s)${result.verdict ? `, ${result.verdict}` : ''}`,
        facts: {
          build: {
            artifacts,
            reproducible: result.reproducible,
            verdict: result.verdict,
            network: m.isolation?.network ?? 'unknown',
            sealed: m.isolation?.sealed === true,
            mechanism: m.isolation?.mechanism ?? 'unknown',
            sourceDateEpoch: m.sourceDateEpoch ?? null,
          },
        },
      }
    },

    async sbom() {
      const { runSbom } = await import('../sbom/index.ts')
      const result = await runSbom({
        cwd: o.cwd,
        out: o.out,
        from: 'lockfile',
        format: 'json',
        spec: '1.6',
        omit: [],
        workspaces: [],
        validate: true,
        sourceDateEpoch: o.context.sourceDate.epoch,
        log: o.log,
      })
      const validated = result.validation.json.ok === true
      return {
        exitCode: ExitCode.ok,
        detail: `${result.components} components, ${result.dependencyEdges} dependency edges${validated ? ', schema-valid' : ''}`,
        facts: {
          sbom: {
            file: ws(result.files[0] ?? path.join(o.out, WorkspaceFiles.sbomJson)),
            components: result.components,
            dependencyEdges: result.dependencyEdges,
            specVersion: result.specVersion,
            validated,
          },
        },
      }
    },

    async scan() {
      const core = await import('../scan/index.ts')
      const result = await core.runScan({
        cwd: o.cwd,
        out: o.out,
        ...(o.scan.offlineDb ? { offlineDb: o.scan.offlineDb } : {}),
        osvUrl: o.scan.osvUrl ?? core.DefaultOsvUrl,
        cacheDir:
          o.scan.cacheDir === undefined
            ? path.join(o.context.cacheRoot, core.OsvCacheFolder)
            : o.scan.cacheDir,
        failOn: o.scan.failOn,
        omitDev: o.scan.omitDev,
        env,
        sourceDateEpoch: o.context.sourceDate.epoch,
        now: o.now,
        log: o.log,
      })
      const r = result.report
      const findings: FindingFact[] = r.findings.map((f) => ({
        id: f.id,
        severity: f.severity,
        name: f.name,
        version: f.version,
        purl: f.purl,
        fixed: f.fixed,
        summary: f.summary,
        suppressed: f.suppressed !== null,
        dev: f.dev,
        failing: o.scan.failOn !== null && failsThreshold(f, o.scan.failOn),
      }))
      const open = findings.filter((f) => !f.suppressed).length
      const failing = findings.filter((f) => f.failing).length
      const code =
        result.exitCode === ExitCode.incomplete
          ? 'SCAN_INCOMPLETE'
          : result.exitCode === ExitCode.checkFailed
            ? 'SCAN_FINDINGS_AT_FAIL_ON'
            : undefined
      const detail =
        result.exitCode === ExitCode.incomplete
          ? `INCOMPLETE: ${r.unchecked.length} package(s) not checked`
          : `${r.componentsChecked} packages checked, ${open} open finding(s)${
              result.exitCode === ExitCode.checkFailed
                ? `, ${failing} at or above fail-on ${o.scan.failOn}`
                : ''
            }`
      return {
        exitCode: result.exitCode,
        ...(code ? { code } : {}),
        detail,
        facts: {
          scan: {
            source: r.source.kind === 'api' ? `OSV API ${r.source.url}` : `offline export ${r.source.export}`,
            complete: r.complete,
            unchecked: r.unchecked.length,
            counts: { ...r.counts },
            open,
            suppressed: r.suppressedCount,
            failOn: o.scan.failOn,
            findings,
          },
        },
      }
    },

    async policy() {
      const { runPolicy } = await import('../policy/index.ts')
      const { result } = await runPolicy({
        cwd: o.cwd,
        out: o.out,
        now: o.now,
        // this run signs after the policy step: a previous run's signatures are not this run's
        ...(o.steps.includes('sign') ? { signatures: null } : {}),
        ...(o.policy.policy !== undefined ? { policy: o.policy.policy } : {}),
        ...(o.policy.vex && o.policy.vex.length > 0 ? { vex: o.policy.vex } : {}),
        // signing rules verify bundles only with trust material given for verify; else they fail closed
        ...(hasVerifyTrust() ? { trust: await verifyTrust() } : {}),
      })
      const rules: RuleFact[] = result.rules
        .filter((r) => r.status !== 'pass')
        .map((r) => ({ id: r.id, title: r.title, status: r.status as 'fail' | 'warn', summary: r.summary }))
      const fails = result.verdict === 'fail' && !o.policy.warnOnly
      return {
        exitCode: fails ? ExitCode.checkFailed : ExitCode.ok,
        ...(fails ? { code: 'POLICY_FAILED' } : {}),
        detail: `${result.policy.name}: ${result.verdict.toUpperCase()} (${result.counts.pass} passed, ${result.counts.warn} warned, ${result.counts.fail} failed)`,
        facts: {
          policy: {
            name: result.policy.name,
            verdict: result.verdict,
            counts: { ...result.counts },
            rules,
          },
        },
      }
    },

    async sign() {
      const signing = await signingFor('sign')
      if ('skipped' in signing) return signing.skipped
      const { signWorkspace } = await import('../sign/index.ts')
      const manifest = await signWorkspace({
        out: o.out,
        signing: signing.config,
        artifacts: o.sign.artifacts,
      })
      signed = manifest.bundles[0]?.signer
      const signatures: SignatureFact[] = manifest.bundles.map((b) => ({
        file: b.file,
        kind: b.kind,
        subject: b.subject,
        signer: describeSigner(b.signer),
      }))
      return {
        exitCode: ExitCode.ok,
        detail: `${signatures.length} signature bundle(s), ${signing.mode}`,
        facts: { sign: { mode: signing.mode, signatures } },
      }
    },

    async bundle() {
      const signing = await signingFor('bundle')
      if ('skipped' in signing) {
        bundleSkipped = true
        return signing.skipped
      }
      const { createEvidenceBundle } = await import('../evidence/index.ts')
      const result = await createEvidenceBundle({
        cwd: o.cwd,
        out: o.out,
        signing: signing.config,
        includeArtifacts: false,
        sourceDate: o.context.sourceDate,
        env,
        log: o.log,
      })
      signed ??= result.signer
      return {
        exitCode: ExitCode.ok,
        detail: `${result.files.length} files + signed manifest, ${result.size} bytes`,
        facts: { evidence: { file: ws(path.resolve(o.cwd, result.file)), sha256: result.sha256 } },
      }
    },

    async verify() {
      // the evidence in the workspace is a previous run's: verifying it would vouch for this run
      if (bundleSkipped)
        return {
          exitCode: ExitCode.ok,
          skipped: true,
          detail: 'skipped: this run made no evidence to verify',
        }
      const { verifyEvidence } = await import('../evidence/index.ts')
      const evidence = path.join(o.out, WorkspaceFiles.evidence)
      const artifacts = await readBuiltArtifacts(o.out)
      const trust = await verifyTrust()
      const failures: string[] = []
      let code: ErrorCode | undefined
      let exitCode: ExitCode = ExitCode.ok
      for (const artifact of artifacts) {
        const { report, exitCode: e } = await verifyEvidence({
          ...trust,
          cwd: o.cwd,
          evidence,
          artifact: path.join(o.out, artifact),
          env,
          now: o.now,
          log: o.log,
        })
        if (!report.verified) {
          failures.push(`${artifact}: [${report.failure?.code}] ${report.failure?.message ?? ''}`)
          code ??= report.failure?.code
          if (exitCode === ExitCode.ok) exitCode = e
        }
      }
      return {
        exitCode,
        ...(code ? { code } : {}),
        detail:
          failures.length === 0
            ? `evidence verified for ${artifacts.length} artifact(s)`
            : `NOT verified: ${failures.join('; ')}`,
        facts: { verify: { verified: failures.length === 0, artifacts: artifacts.length } },
      }
    },
  }
  return {
    runners,
    dispose: async () => {
      if (scratch) await rm(scratch, { recursive: true, force: true })
    },
  }

  /** Whether who must have signed was given (a key or an identity), not derived from this run's signer. */
  function hasVerifyTrust(): boolean {
    const v = o.verify
    return Boolean(v.key || v.certificateIdentity || v.certificateIdentityRegexp)
  }

  /** The signer of this run's signatures (sign) or evidence (bundle), for verification defaults. */
  async function verifyTrust(): Promise<TrustFlags> {
    const v = o.verify
    if (hasVerifyTrust())
      return {
        ...v,
        ...(v.key && !v.trustedRoot && !o.sign.tlog ? { trustedRoot: await emptyTrustedRoot() } : {}),
      }
    // verify what this run just signed: the key's public half, or the identity in the certificate
    if (hasKey() && (signed?.type === 'key' || signed === undefined)) {
      const keyFile = await publicKeyOf()
      return {
        key: keyFile,
        ...(v.trustedRoot
          ? { trustedRoot: v.trustedRoot }
          : o.sign.tlog
            ? {}
            : { trustedRoot: await emptyTrustedRoot() }),
        ...(o.sign.tlog ? {} : { insecureIgnoreTlog: true }),
      }
    }
    if (signed?.type === 'keyless')
      return {
        certificateIdentity: signed.identity,
        certificateOidcIssuer: signed.issuer,
        ...(v.trustedRoot ? { trustedRoot: v.trustedRoot } : {}),
      }
    throw new InputError(
      'RUN_USAGE',
      'verify: say who must have signed the evidence (--verify-key, or --certificate-identity with --certificate-oidc-issuer)',
    )
  }

  async function tempDir(): Promise<string> {
    scratch ??= await mkdtemp(path.join(os.tmpdir(), 'detbuild-run-'))
    return scratch
  }

  async function emptyTrustedRoot(): Promise<string> {
    const file = path.join(await tempDir(), 'empty-trusted-root.json')
    await writeFileAtomic(file, stableJson(EMPTY_TRUSTED_ROOT))
    return file
  }

  /** Whether this run signs with a key (a file, or the PEM held in memory). */
  function hasKey(): boolean {
    return o.sign.key !== undefined || o.sign.keyPem !== undefined
  }

  /** The public half of this run's signing key, in a scratch file for verify. */
  async function publicKeyOf(): Promise<string> {
    const { PEM_KEY_DISPLAY, toPrivateKey } = await import('../sign/index.ts')
    let pem: string
    let shown: string
    if (o.sign.keyPem !== undefined) {
      pem = o.sign.keyPem
      shown = PEM_KEY_DISPLAY
    } else {
      const abs = path.resolve(o.cwd, o.sign.key as string)
      shown = o.sign.key as string
      pem = await readTextFile(abs, 'SIGN_KEY_INVALID', toPosixRelative(o.cwd, abs), 'config')
    }
    const passwordEnv = o.sign.keyPasswordEnv ?? 'DETBUILD_KEY_PASSWORD'
    const priv = toPrivateKey(pem, env[passwordEnv] || undefined, shown, passwordEnv)
    const file = path.join(await tempDir(), 'signing.pub')
    await writeFileAtomic(file, createPublicKey(priv).export({ type: 'spki', format: 'pem' }).toString())
    return file
  }

  /** One signing configuration for sign and bundle (one identity token, one key). */
  async function signingFor(
    step: 'sign' | 'bundle',
  ): Promise<{ config: SigningConfig; mode: 'key' | 'keyless' } | { skipped: StepResult }> {
    let mode = o.sign.mode
    if (mode === 'auto') {
      if (hasKey()) mode = 'key'
      else if (hasAmbientIdentity({ env, sign: o.sign })) mode = 'keyless'
      else {
        // a warning, so that even -q and --json say it: nothing of this run is signed
        if (!warnedUnsigned) {
          const bundles = o.steps.includes('bundle')
          const affected = o.steps.filter(
            (s) => s === 'sign' || s === 'bundle' || (s === 'verify' && bundles),
          )
          o.log.warn(
            `no signing identity: ${affected.join(', ')} skipped, nothing is signed (use --sign key --key FILE, or run in CI with an OIDC token)`,
          )
          warnedUnsigned = true
        }
        return {
          skipped: {
            exitCode: ExitCode.ok,
            skipped: true,
            detail: `skipped: no signing identity for the ${step === 'sign' ? 'signatures' : 'evidence'} (use --sign key --key FILE, or run in CI with an OIDC token)`,
          },
        }
      }
    }
    if (mode === 'none')
      return { skipped: { exitCode: ExitCode.ok, skipped: true, detail: 'skipped: --sign none' } }
    if (mode === 'key' && !hasKey()) throw new InputError('RUN_USAGE', '--sign key needs --key FILE')
    const resolved = mode
    signing ??= (async () => {
      const { resolveSigningConfig } = await import('../sign/index.ts')
      return resolveSigningConfig(
        {
          ...(resolved === 'key' && o.sign.keyPem !== undefined ? { keyPem: o.sign.keyPem } : {}),
          ...(resolved === 'key' && o.sign.key !== undefined ? { key: o.sign.key } : {}),
          ...(o.sign.keyPasswordEnv ? { keyPasswordEnv: o.sign.keyPasswordEnv } : {}),
          ...(resolved === 'keyless' && o.sign.identityToken ? { identityToken: o.sign.identityToken } : {}),
          ...(resolved === 'keyless' && o.sign.fulcioUrl ? { fulcioUrl: o.sign.fulcioUrl } : {}),
          ...(o.sign.rekorUrl ? { rekorUrl: o.sign.rekorUrl } : {}),
          ...(o.sign.tsaUrl ? { tsaUrl: o.sign.tsaUrl } : {}),
          ...(resolved === 'key' && !o.sign.tlog ? { tlog: false } : {}),
        },
        { cwd: o.cwd, env, ...(o.onSecret ? { onToken: o.onSecret } : {}) },
      )
    })()
    return { config: await signing, mode: resolved }
  }
}

/** The artifact paths build.json lists (workspace-relative). */
async function readBuiltArtifacts(out: string): Promise<string[]> {
  const paths = (await readBuildManifest(out)).outputs.map((x) => x.path)
  if (paths.length === 0)
    throw new InputError('RUN_NO_ARTIFACTS', 'build.json lists no artifacts to verify the evidence for', {
      file: WorkspaceFiles.buildManifest,
    })
  return paths
}
