/**
 * Pure: the Action's inputs (INPUT_* variables set by the runner from action.yml) → validated values.
 * Every input action.yml declares is listed here; a test keeps the two in step.
 */
import { InputError } from '../errors.ts'
import { SIGNING_FLAGS, TRUST_FLAGS } from '../flags/index.ts'
import type { SignFlags } from '../sign/index.ts'
import { toDtrackEndpoint } from '../upload/index.ts'
import type { FlagSpec } from '../util/flag-spec.ts'
import { urlSecrets } from '../util/redact.ts'
import { checkAnchoredRegExp, type TrustFlags } from '../verify/index.ts'
import { API_KEY_ENV } from './upload-step.ts'

export const ACTION_COMMANDS = ['run', 'build', 'sbom', 'scan', 'policy', 'sign', 'bundle', 'verify'] as const
export type ActionCommand = (typeof ACTION_COMMANDS)[number]

/** The inputs action.yml declares, with the default it gives each (undefined: none). */
export const INPUT_DEFAULTS = {
  'working-directory': '.',
  command: 'run',
  config: '',
  steps: '',
  skip: '',
  out: '.detbuild',
  check: 'false',
  policy: '',
  'warn-only': 'false',
  'fail-on': '',
  'osv-url': '',
  'offline-db': '',
  sign: 'auto',
  key: '',
  'key-password': '',
  'fulcio-url': '',
  'rekor-url': '',
  'tsa-url': '',
  'verify-key': '',
  'trusted-root': '',
  'certificate-identity': '',
  'certificate-identity-regexp': '',
  'certificate-oidc-issuer': '',
  'certificate-oidc-issuer-regexp': '',
  'release-assets': 'true',
  'dependency-track-url': '',
  'dependency-track-project': '',
  'dependency-track-project-name': '',
  'dependency-track-project-version': '',
  'dependency-track-auto-create': 'false',
  'dependency-track-parent-name': '',
  'dependency-track-parent-version': '',
} as const
export type InputName = keyof typeof INPUT_DEFAULTS
export const INPUT_NAMES = Object.keys(INPUT_DEFAULTS) as InputName[]

/** The variable the runner sets for an input: spaces become `_`, the name is upper-cased, `-` stays. */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
}

export interface ActionInputs {
  workingDirectory: string
  command: ActionCommand
  config: string
  steps: string[]
  skip: string[]
  out: string
  check: boolean
  policy: string
  warnOnly: boolean
  failOn: string
  osvUrl: string
  offlineDb: string
  sign: string
  /** a key file path, or the PEM itself (a secret) */
  key: string
  keyPassword: string
  /** the sign step's inputs (sign/flags.ts): Fulcio, Rekor and TSA URLs; "" when not given */
  signing: StringOptions<SignFlags>
  /** verify's inputs (verify/flags.ts): who must have signed, and the trusted root; "" when not given */
  trust: StringOptions<TrustFlags>
  releaseAssets: boolean
  /** the upload after the run (upload-step.ts); `url` "" when not asked for */
  dependencyTrack: {
    url: string
    project: string
    projectName: string
    projectVersion: string
    autoCreate: boolean
    parentName: string
    parentVersion: string
  }
}

function toBoolean(name: string, value: string): boolean {
  // the YAML 1.2 core schema booleans, as actions/toolkit's getBooleanInput accepts them
  if (['true', 'True', 'TRUE'].includes(value)) return true
  if (['false', 'False', 'FALSE'].includes(value)) return false
  throw new InputError('ACTION_INPUT_INVALID', `input "${name}" must be true or false, not "${value}"`)
}

const toList = (value: string): string[] => value.split(/[\s,]+/).filter((v) => v !== '')

export function readInputs(env: Readonly<Record<string, string | undefined>>): ActionInputs {
  const get = (name: InputName): string => {
    const raw = env[inputVariable(name)]
    return (raw === undefined || raw.trim() === '' ? INPUT_DEFAULTS[name] : raw).trim()
  }
  const command = get('command')
  if (!(ACTION_COMMANDS as readonly string[]).includes(command))
    throw new InputError(
      'ACTION_INPUT_INVALID',
      `input "command" must be one of ${ACTION_COMMANDS.join(', ')}, not "${command}"`,
    )
  // a PEM key keeps its line breaks; everything else is trimmed
  const rawKey = env[inputVariable('key')] ?? ''
  // anchored as a whole: a pattern that escapes `^(?:…)$` (`a)|(.*`) is rejected here, before any step runs
  const trust = fromTable<TrustFlags>(TRUST_FLAGS, get)
  const identityRegexp = trust.certificateIdentityRegexp ?? ''
  if (identityRegexp !== '') checkAnchoredRegExp(identityRegexp, 'input "certificate-identity-regexp"')
  const issuerRegexp = trust.certificateOidcIssuerRegexp ?? ''
  if (issuerRegexp !== '') checkAnchoredRegExp(issuerRegexp, 'input "certificate-oidc-issuer-regexp"')
  return {
    workingDirectory: get('working-directory'),
    command: command as ActionCommand,
    config: get('config'),
    steps: toList(get('steps')),
    skip: toList(get('skip')),
    out: get('out'),
    check: toBoolean('check', get('check')),
    policy: get('policy'),
    warnOnly: toBoolean('warn-only', get('warn-only')),
    failOn: get('fail-on'),
    osvUrl: get('osv-url'),
    offlineDb: get('offline-db'),
    sign: get('sign'),
    key: rawKey.includes('-----BEGIN') ? rawKey : rawKey.trim(),
    keyPassword: env[inputVariable('key-password')] ?? '',
    signing: fromTable<SignFlags>(SIGNING_FLAGS, get),
    trust,
    releaseAssets: toBoolean('release-assets', get('release-assets')),
    dependencyTrack: toDependencyTrack(env, get),
  }
}

/**
 * The Dependency-Track inputs, checked before any step runs: a URL detbuild will send the key to, a
 * project UUID in its shape, the key in the job's environment, and no project input without the URL.
 */
function toDependencyTrack(
  env: Readonly<Record<string, string | undefined>>,
  get: (name: InputName) => string,
): ActionInputs['dependencyTrack'] {
  const dt = {
    url: get('dependency-track-url'),
    project: get('dependency-track-project').toLowerCase(),
    projectName: get('dependency-track-project-name'),
    projectVersion: get('dependency-track-project-version'),
    autoCreate: toBoolean('dependency-track-auto-create', get('dependency-track-auto-create')),
    parentName: get('dependency-track-parent-name'),
    parentVersion: get('dependency-track-parent-version'),
  }
  const invalid = (message: string) => new InputError('ACTION_INPUT_INVALID', message)
  if (dt.url === '') {
    const set = INPUT_NAMES.filter(
      (n) =>
        n.startsWith('dependency-track-') && n !== 'dependency-track-url' && get(n) !== INPUT_DEFAULTS[n],
    )
    if (set.length > 0) throw invalid(`input "${set[0]}" is set but "dependency-track-url" is not`)
    return dt
  }
  try {
    toDtrackEndpoint(dt.url, false)
  } catch (e) {
    throw invalid(`input "dependency-track-url": ${(e as Error).message.replace(/^--url /, '')}`)
  }
  if (dt.project !== '' && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(dt.project))
    throw invalid('input "dependency-track-project" must be a project UUID')
  if (dt.project !== '' && (dt.projectName !== '' || dt.projectVersion !== '' || dt.autoCreate))
    throw invalid(
      'input "dependency-track-project" names the project by UUID: not with its name, version or auto-create',
    )
  if (!env[API_KEY_ENV]?.trim())
    throw invalid(`input "dependency-track-url" is set, but the job's environment has no ${API_KEY_ENV}`)
  return dt
}

/** The string-valued options of a step's options type (an input is always a string). */
type StringOptions<T> = Partial<
  Pick<T, { [K in keyof T]-?: NonNullable<T[K]> extends string ? K : never }[keyof T]>
>

/** The table's plain string inputs, under the step's own option names. */
function fromTable<T extends object>(
  table: readonly FlagSpec<keyof T & string>[],
  get: (name: InputName) => string,
): StringOptions<T> {
  const values: Record<string, string> = {}
  for (const f of table) if (f.input !== undefined) values[f.key] = get(inputName(f.input))
  // the tables give inputs only to options that take a string (test/action/metadata.test.ts)
  return values as StringOptions<T>
}

/** A table's input name, checked against the inputs action.yml declares. */
function inputName(name: string): InputName {
  if (!(INPUT_NAMES as readonly string[]).includes(name))
    throw new Error(`a flag table names input "${name}", which action.yml does not declare`)
  return name as InputName
}

/** Inputs that are URLs: their user info and secret query values are credentials. */
const URL_INPUTS: readonly InputName[] = [
  'osv-url',
  'fulcio-url',
  'rekor-url',
  'tsa-url',
  'dependency-track-url',
]
/** Environment variables detbuild reads that are URLs (a registry, a proxy) and may carry credentials. */
const URL_ENV = [
  'npm_config_registry',
  'NPM_CONFIG_REGISTRY',
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'ALL_PROXY',
  'all_proxy',
] as const

/** Variables holding tokens this run may read or be handed. */
const TOKEN_ENV = [
  'SIGSTORE_ID_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'ACTIONS_RUNTIME_TOKEN',
  API_KEY_ENV,
] as const

/**
 * The credential values this run reads from its inputs and environment, for `::add-mask::`: a PEM key
 * and its passphrase, `DETBUILD_KEY_PASSWORD`, identity tokens (`SIGSTORE_ID_TOKEN`, the runner's
 * `ACTIONS_ID_TOKEN_REQUEST_TOKEN` and `ACTIONS_RUNTIME_TOKEN`), the Dependency-Track API key, and the user info and secret query values of URL inputs
 * and URL variables. Read from the raw environment, so they are masked even when an input is invalid.
 */
export function toActionSecrets(env: Readonly<Record<string, string | undefined>>): string[] {
  const out: string[] = []
  const key = env[inputVariable('key')] ?? ''
  if (key.includes('-----BEGIN')) out.push(key)
  for (const v of [env[inputVariable('key-password')], env.DETBUILD_KEY_PASSWORD]) if (v) out.push(v)
  // identity tokens: one given to the job, and the runner's own (masked by the runner too; again is free)
  for (const name of TOKEN_ENV) if (env[name]) out.push(env[name] as string)
  for (const name of URL_INPUTS) out.push(...urlSecrets(env[inputVariable(name)] ?? ''))
  for (const name of URL_ENV) out.push(...urlSecrets(env[name] ?? ''))
  return out
}
