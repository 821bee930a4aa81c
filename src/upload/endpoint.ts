/**
 * Pure: what `detbuild upload` sends where. The server URL, the project, the API key and the request
 * bodies are checked here, before anything touches the network, so a mistake is exit 2 with the flag's
 * name and never a request. Nothing here ever quotes the API key.
 */
import { InputError } from '../errors.ts'
import { canonicalJson } from '../util/canonical-json.ts'

/** A Dependency-Track API server: where requests go, and how to name it in messages and upload.json. */
export interface DtrackEndpoint {
  /** origin and path, no trailing slash: requests go to `${base}/api/v1/…` */
  readonly base: string
}

/** Hosts an `http://` URL may name without `--allow-http`: the key never leaves the machine. */
function isLoopback(hostname: string): boolean {
  const h = hostname.toLowerCase()
  return h === 'localhost' || h === '[::1]' || /^127(\.\d{1,3}){3}$/.test(h)
}

/**
 * `--url`: an http(s) URL without credentials, query or fragment (the key travels in `X-Api-Key`, never
 * in the URL). `http://` to anything but the loopback address is refused unless `allowHttp`: the key
 * would cross the network in clear text. The message never quotes the URL (it may hold a secret).
 */
export function toDtrackEndpoint(raw: string, allowHttp: boolean): DtrackEndpoint {
  const bad = (why: string) => new InputError('UPLOAD_URL_INVALID', `--url ${why}`)
  let u: URL
  try {
    u = new URL(raw.trim())
  } catch {
    throw bad('is not a URL')
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw bad('must be an http(s) URL')
  if (u.username !== '' || u.password !== '')
    throw bad('must not carry credentials: the API key is read from the environment')
  if (u.search !== '' || u.hash !== '') throw bad('must not have a query or a fragment')
  // requests go to `${base}/api/v1/…`: a URL copied from a curl example would double the prefix
  if (/\/api(\/v1)?(\/bom)?\/*$/i.test(u.pathname))
    throw bad(
      `is the server's base URL, without ${/\/api\/v1\/bom\/*$/i.test(u.pathname) ? '/api/v1/bom' : /\/v1\/*$/i.test(u.pathname) ? '/api/v1' : '/api'}`,
    )
  if (u.protocol === 'http:' && !allowHttp && !isLoopback(u.hostname))
    throw new InputError(
      'UPLOAD_INSECURE_URL',
      `--url is plain http to ${u.hostname}: the API key would cross the network unencrypted (use https://, or pass --allow-http)`,
    )
  return { base: u.toString().replace(/\/+$/, '') }
}

/**
 * The API key from `env[name]`: set, and only visible ASCII (an HTTP header value; a line break would
 * let a key forge a header, and fetch's own error would quote the value). The message names the variable.
 */
export function toApiKey(value: string | undefined, name: string): string {
  const key = value?.trim() ?? ''
  if (key === '')
    throw new InputError('UPLOAD_API_KEY_MISSING', `no API key: set the environment variable ${name}`, {
      details: { apiKeyEnv: name },
    })
  if (!/^[\x21-\x7e]+$/.test(key))
    throw new InputError(
      'UPLOAD_API_KEY_INVALID',
      `the API key in ${name} holds a character an HTTP header cannot carry (whitespace, a control or a non-ASCII character)`,
      { details: { apiKeyEnv: name } },
    )
  return key
}

/** `text` with every occurrence of `secret` replaced, for any text a server or an error may echo. */
export function redactKey(text: string, secret: string): string {
  return secret === '' ? text : text.split(secret).join('***')
}

/** Which Dependency-Track project: by UUID, or by name and version (created when `autoCreate`). */
export type ProjectRef = { uuid: string } | { name: string; version: string }

/** Where a project created by `autoCreate` is placed. */
export type ParentRef = { uuid: string } | { name: string; version?: string }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** A project or parent UUID as Dependency-Track accepts it (lower case; its pattern refuses upper case). */
export function toUuid(value: string, flag: string): string {
  const v = value.trim().toLowerCase()
  if (!UUID.test(v)) throw new InputError('UPLOAD_USAGE', `${flag} must be a UUID (8-4-4-4-12 hex digits)`)
  return v
}

/** A UUID a server sent: the same shape, or null. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value.toLowerCase())
}

/**
 * A project name or version: printable, no control characters (Dependency-Track's PRINTABLE_CHARS), at
 * most 255 characters, trimmed (the server trims too: what upload.json records is what it stored).
 */
export function toProjectText(value: string, what: string): string {
  const v = value.trim()
  if (v === '') throw new InputError('UPLOAD_USAGE', `${what} is empty`)
  if (v.length > 255) throw new InputError('UPLOAD_USAGE', `${what} is longer than 255 characters`)
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(v))
    throw new InputError('UPLOAD_USAGE', `${what} holds a control character`)
  return v
}

/** The project part of a BOM or VEX request (`project`, or `projectName` + `projectVersion`). */
function projectFields(project: ProjectRef): Record<string, string> {
  return 'uuid' in project
    ? { project: project.uuid }
    : { projectName: project.name, projectVersion: project.version }
}

/** The most `PUT /api/v1/bom` and `/vex` accept in their base64 field (Dependency-Track's documented limit). */
export const MaxBase64Chars = 20_000_000

function toBase64(bytes: Uint8Array, what: string): string {
  const b64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
  if (b64.length > MaxBase64Chars)
    throw new InputError(
      'UPLOAD_TOO_LARGE',
      `the ${what} is ${b64.length} characters in base64; PUT accepts at most ${MaxBase64Chars}`,
      { details: { characters: b64.length, max: MaxBase64Chars } },
    )
  return b64
}

/**
 * The body of `PUT /api/v1/bom` (BomSubmitRequest): canonical JSON (sorted keys, no whitespace), so the
 * same SBOM and flags always send the same bytes.
 */
export function toBomRequest(o: {
  project: ProjectRef
  autoCreate: boolean
  parent?: ParentRef
  sbom: Uint8Array
}): string {
  const parent: Record<string, string> =
    o.parent === undefined
      ? {}
      : 'uuid' in o.parent
        ? { parentUUID: o.parent.uuid }
        : { parentName: o.parent.name, ...(o.parent.version ? { parentVersion: o.parent.version } : {}) }
  return canonicalJson({
    ...projectFields(o.project),
    ...('uuid' in o.project ? {} : { autoCreate: o.autoCreate }),
    ...parent,
    bom: toBase64(o.sbom, 'SBOM'),
  })
}

/** The body of `PUT /api/v1/vex` (VexSubmitRequest), canonical JSON. */
export function toVexRequest(o: { project: ProjectRef; vex: Uint8Array }): string {
  return canonicalJson({ ...projectFields(o.project), vex: toBase64(o.vex, 'VEX') })
}
