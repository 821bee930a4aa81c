/**
 * The build environment is an allowlist, and the allowlist cannot carry a credential by accident:
 * `env` refuses credential-looking names (they go to `secretEnv`, on purpose), neither list may name the
 * runner's or detbuild's own credentials, and the key passphrase's variable is withheld from the build.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { toBuildEnv } from '../../src/builder/env.ts'
import { resolveBuildConfig } from '../../src/config/build-config.ts'
import { loadConfigValidator } from '../../src/config/load-build-config.ts'
import { isDetbuildError } from '../../src/errors.ts'
import { isWithheldEnvName, looksLikeSecretEnvName } from '../../src/util/secret-env.ts'
import { runCli } from './helpers.ts'

const dirs: string[] = []
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const base = { toolchain: { node: 'system' }, build: 'true', outputs: ['out/*'] }

async function configError(
  doc: Record<string, unknown>,
): Promise<{ code: string; key: unknown; exit: number }> {
  try {
    resolveBuildConfig({ ...base, ...doc }, 'detbuild.config.json', await loadConfigValidator())
  } catch (e) {
    assert.ok(isDetbuildError(e), String(e))
    return { code: e.code, key: e.details?.key, exit: e.exitCode }
  }
  assert.fail(`accepted ${JSON.stringify(doc)}`)
}

test('credential-looking names: the class', () => {
  for (const name of [
    'NPM_TOKEN',
    'GITHUB_TOKEN',
    'NODE_AUTH_TOKEN',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_ACCESS_KEY_ID',
    'DB_PASSWORD',
    'MYSQL_PWD_PASSWD',
    'npm_config__auth',
    'npm_config__authToken',
    'SSH_AUTH_SOCK',
    'STRIPE_API_KEY',
    'SIGNING_KEY',
    'GPG_PASSPHRASE',
    'GOOGLE_APPLICATION_CREDENTIALS',
    'DEPLOY_PAT',
    'client_secret',
  ])
    assert.ok(looksLikeSecretEnvName(name), name)
  for (const name of [
    'CI',
    'NODE_OPTIONS',
    'HTTPS_PROXY',
    'TZ',
    'KEYBOARD_LAYOUT',
    'MONKEY',
    'BYPASS',
    'PASSAGE',
  ])
    assert.ok(!looksLikeSecretEnvName(name), name)
  for (const name of [
    'ACTIONS_ID_TOKEN_REQUEST_URL',
    'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
    'ACTIONS_RUNTIME_TOKEN',
    'INPUT_KEY',
    'input_key-password',
    'DETBUILD_KEY_PASSWORD',
    'DETBUILD_CACHE_KEY',
    'SIGSTORE_ID_TOKEN',
  ])
    assert.ok(isWithheldEnvName(name), name)
  assert.ok(!isWithheldEnvName('NPM_TOKEN'), 'a registry token may be passed on purpose')
})

test('env naming a credential is exit 2 CONFIG_ENV_SECRET naming the key; secretEnv passes it on purpose', async () => {
  for (const name of ['NPM_TOKEN', 'GITHUB_TOKEN', 'DB_PASSWORD'])
    assert.deepEqual(await configError({ env: ['CI', name] }), {
      code: 'CONFIG_ENV_SECRET',
      key: 'env[1]',
      exit: 2,
    })
  const validate = await loadConfigValidator()
  const ok = resolveBuildConfig(
    { ...base, env: ['CI', 'NPM_TOKEN'], secretEnv: ['NPM_TOKEN'] },
    'x',
    validate,
  )
  assert.deepEqual(ok.secretEnv, ['NPM_TOKEN'])
  const only = resolveBuildConfig({ ...base, secretEnv: ['NPM_TOKEN'] }, 'x', validate)
  assert.deepEqual([only.env, only.secretEnv], [[], ['NPM_TOKEN']])
  // the runner's and detbuild's own credentials: never, in either list
  for (const [doc, key] of [
    [{ secretEnv: ['ACTIONS_ID_TOKEN_REQUEST_TOKEN'] }, 'secretEnv[0]'],
    [{ secretEnv: ['NPM_TOKEN', 'ACTIONS_RUNTIME_TOKEN'] }, 'secretEnv[1]'],
    [{ env: ['INPUT_KEY'] }, 'env[0]'],
    [{ env: ['DETBUILD_KEY_PASSWORD'], secretEnv: [] }, 'env[0]'],
    [{ secretEnv: ['SIGSTORE_ID_TOKEN'] }, 'secretEnv[0]'],
  ] as const)
    assert.deepEqual(await configError(doc), { code: 'CONFIG_ENV_SECRET', key, exit: 2 })
  // a bad name in secretEnv is a schema error naming the key
  assert.deepEqual(await configError({ secretEnv: ['NOT-A-NAME'] }), {
    code: 'CONFIG_INVALID',
    key: 'secretEnv[0]',
    exit: 2,
  })
})

test('toBuildEnv: allowlisted names only; a withheld name never passes; git adds its fixed settings', () => {
  const hostEnv = {
    CI: 'true',
    NPM_TOKEN: 'npm-value',
    INPUT_KEY: 'pem',
    ACTIONS_RUNTIME_TOKEN: 'rt',
    NODE_ENV: 'production',
    HOME: '/home/u',
  }
  const common = {
    hostEnv,
    home: '/h',
    tmp: '/t',
    pathDirs: [],
    sourceDateEpoch: 1,
    npmCache: '/c',
    registry: 'https://registry.npmjs.org/',
    offline: true,
  }
  // a caller that skipped the config check still cannot pass a withheld name
  const env = toBuildEnv({
    ...common,
    allowlist: ['CI', 'INPUT_KEY'],
    secretAllowlist: ['ACTIONS_RUNTIME_TOKEN'],
  })
  assert.equal(env.CI, 'true')
  for (const name of ['INPUT_KEY', 'ACTIONS_RUNTIME_TOKEN', 'NPM_TOKEN', 'NODE_ENV', 'GIT_CONFIG_COUNT'])
    assert.equal(env[name], undefined, name)
  assert.equal(env.HOME, '/h')
  const withSecret = toBuildEnv({ ...common, allowlist: [], secretAllowlist: ['NPM_TOKEN'], git: true })
  assert.equal(withSecret.NPM_TOKEN, 'npm-value')
  assert.deepEqual(
    [withSecret.GIT_CONFIG_COUNT, withSecret.GIT_CONFIG_KEY_0, withSecret.GIT_CONFIG_VALUE_0],
    ['1', 'safe.directory', '*'],
  )
  assert.equal(withSecret.GIT_CONFIG_NOSYSTEM, '1')
  // the registry URL's credentials: never offline; online only when the config asks for them by name
  const registry = 'https://deploy:s3cr3t@npm.example.test/npm/'
  const online = { ...common, registry, offline: false, allowlist: [] }
  assert.equal(toBuildEnv(online).npm_config_registry, 'https://npm.example.test/npm/')
  assert.equal(
    toBuildEnv({ ...online, offline: true, secretAllowlist: ['npm_config_registry'] }).npm_config_registry,
    'https://npm.example.test/npm/',
  )
  assert.equal(
    toBuildEnv({ ...online, secretAllowlist: ['npm_config_registry'] }).npm_config_registry,
    registry,
  )
  // a proxy URL's credentials reach an online build only when the config names the variable in secretEnv
  const proxied = {
    ...online,
    hostEnv: { HTTPS_PROXY: 'http://me:pw@proxy.example.test:3128', NO_PROXY: 'localhost,127.0.0.1' },
  }
  assert.equal(toBuildEnv(proxied).HTTPS_PROXY, 'http://proxy.example.test:3128/')
  assert.equal(toBuildEnv(proxied).NO_PROXY, 'localhost,127.0.0.1')
  assert.equal(
    toBuildEnv({ ...proxied, secretAllowlist: ['HTTPS_PROXY'] }).HTTPS_PROXY,
    'http://me:pw@proxy.example.test:3128',
  )
  assert.equal(toBuildEnv({ ...proxied, offline: true }).HTTPS_PROXY, undefined)
})

function project(config: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detbuild-env-'))
  dirs.push(dir)
  const p = path.join(dir, 'project')
  mkdirSync(p)
  writeFileSync(
    path.join(p, 'build.sh'),
    'mkdir -p out\nenv | sort > out/env.txt\necho "token: $NPM_TOKEN"\n',
  )
  writeFileSync(
    path.join(p, 'detbuild.config.json'),
    JSON.stringify({
      toolchain: { node: 'system' },
      install: [],
      build: ['sh build.sh'],
      outputs: ['out/*'],
      ...config,
    }),
  )
  return p
}

test('a build gets a secretEnv variable, recorded by name only; NODE_ENV and other host variables stay out', async () => {
  const p = project({ env: ['CI'], secretEnv: ['NPM_TOKEN'] })
  const r = await runCli(['build', '-C', p], {
    CI: 'true',
    NPM_TOKEN: 'npm_value_recorded_nowhere',
    NODE_ENV: 'production',
    GITHUB_TOKEN: 'ghs_not_passed',
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'req-token',
  })
  assert.equal(r.code, 0, r.stderr)
  const dump = readFileSync(path.join(p, '.detbuild', 'artifacts', 'env.txt'), 'utf8')
  assert.match(dump, /^NPM_TOKEN=npm_value_recorded_nowhere$/m)
  assert.match(dump, /^CI=true$/m)
  for (const name of ['NODE_ENV', 'GITHUB_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN'])
    assert.doesNotMatch(dump, new RegExp(`^${name}=`, 'm'), name)
  const manifest = readFileSync(path.join(p, '.detbuild', 'build.json'), 'utf8')
  const provenance = readFileSync(path.join(p, '.detbuild', 'provenance.intoto.json'), 'utf8')
  const log = readFileSync(path.join(p, '.detbuild', 'build.log'), 'utf8')
  assert.match(log, /^token: \*\*\*$/m, 'the build printed it: the log hides it')
  for (const text of [manifest, provenance, log, r.stdout, r.stderr])
    assert.ok(!text.includes('npm_value_recorded_nowhere'), 'the value is recorded nowhere')
  assert.deepEqual(JSON.parse(manifest).env, ['CI', 'NPM_TOKEN'])
  const record = JSON.parse(provenance).predicate.buildDefinition.externalParameters.config
  assert.deepEqual([record.env, record.secretEnv], [['CI'], ['NPM_TOKEN']])
})

test("the key passphrase's variable (--key-password-env) is withheld from the build: exit 2 naming the key", async () => {
  const p = project({ env: ['CI', 'RELEASE_PW'] })
  const r = await runCli(['--json', 'run', '-C', p, '--steps', 'build', '--key-password-env', 'RELEASE_PW'], {
    RELEASE_PW: 'pw',
  })
  assert.equal(r.code, 2, r.stdout + r.stderr)
  const report = JSON.parse(r.stdout)
  const build = report.steps.find((s: { name: string }) => s.name === 'build')
  assert.equal(build.error.code, 'CONFIG_ENV_SECRET')
  assert.match(build.error.message, /env\[1\]/)
  // without the flag, the same config builds (RELEASE_PW is then just a variable)
  const plain = await runCli(['run', '-C', p, '--steps', 'build'], { RELEASE_PW: 'pw' })
  assert.equal(plain.code, 0, plain.stdout + plain.stderr)
})
