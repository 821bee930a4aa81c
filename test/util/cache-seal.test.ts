/**
 * util/cache-seal.ts: the key that seals the caches comes from DETBUILD_CACHE_KEY or from a key file
 * made on first use (0600 in a 0700 folder) under the state folder; a key file that could be someone
 * else's is not used (nor replaced), and then the key lives for the run only; a sealed text unwraps only
 * under its key, unchanged.
 */
import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { CacheSeal, cacheKeyFile, MIN_ENV_KEY_LENGTH, openCacheSeal } from '../../src/util/cache-seal.ts'

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'detbuild-seal-'))
  try {
    await run(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

test('wrap and unwrap: only the same key, only the same text', () => {
  const a = new CacheSeal(Buffer.alloc(32, 1), 'run')
  const b = new CacheSeal(Buffer.alloc(32, 2), 'run')
  for (const body of ['{}', '{"a":"\\n"}', 'x'.repeat(100_000), 'é\u2028']) {
    const sealed = a.wrap(body)
    assert.equal(a.unwrap(sealed), body)
    assert.equal(b.unwrap(sealed), null, 'another key')
    assert.equal(a.unwrap(`${sealed.slice(0, 70)}X${sealed.slice(71)}`), null, 'a changed body')
    assert.equal(a.unwrap(sealed.slice(0, -1)), null, 'no final newline')
    assert.equal(a.unwrap(`${body}\n`), null, 'no seal')
    const mac = sealed.slice(0, 64)
    const flipped = `${mac[0] === '0' ? '1' : '0'}${mac.slice(1)}`
    assert.equal(a.unwrap(`${flipped}${sealed.slice(64)}`), null, 'a changed seal')
    assert.equal(a.unwrap(`${mac.toUpperCase()}${sealed.slice(64)}`), null, 'not lower-case hex')
  }
  assert.equal(a.unwrap(''), null)
  assert.equal(a.unwrap('\n'.repeat(70)), null)
})

test('DETBUILD_CACHE_KEY: the same secret gives the same seal anywhere; a short one is bad input', async () => {
  const secret = 's'.repeat(MIN_ENV_KEY_LENGTH)
  const one = await openCacheSeal({ DETBUILD_CACHE_KEY: secret, HOME: '/nonexistent' })
  const two = await openCacheSeal({ DETBUILD_CACHE_KEY: secret, XDG_STATE_HOME: '/elsewhere' })
  assert.equal(one.origin, 'env')
  assert.equal(two.unwrap(one.wrap('body')), 'body')
  const other = await openCacheSeal({ DETBUILD_CACHE_KEY: `${secret}x` })
  assert.equal(other.unwrap(one.wrap('body')), null)
  await assert.rejects(openCacheSeal({ DETBUILD_CACHE_KEY: 'short' }), {
    code: 'CONFIG_CACHE_KEY_INVALID',
    message: /5 characters; it needs at least 32/,
  })
})

test('the key file: made once (0600, folder 0700) and used by every later run', async () => {
  await withDir(async (dir) => {
    const env = { XDG_STATE_HOME: path.join(dir, 'state') }
    const file = cacheKeyFile(env)
    assert.equal(file, path.join(dir, 'state', 'detbuild', 'cache-key'))
    const seal = await openCacheSeal(env)
    assert.equal(seal.origin, 'file')
    assert.match(readFileSync(file, 'utf8'), /^[0-9a-f]{64}\n$/)
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700)
    // another process: the same key from the file (a fresh path, as this process keeps what it opened)
    const copy = path.join(dir, 'copy')
    mkdirSync(path.join(copy, 'detbuild'), { recursive: true })
    writeFileSync(path.join(copy, 'detbuild', 'cache-key'), readFileSync(file), { mode: 0o600 })
    const later = await openCacheSeal({ XDG_STATE_HOME: copy })
    assert.equal(later.origin, 'file')
    assert.equal(later.unwrap(seal.wrap('body')), 'body')
    // a relative XDG_STATE_HOME is not used: the home folder's .local/state is
    assert.equal(
      cacheKeyFile({ XDG_STATE_HOME: 'rel', HOME: '/h' }),
      path.join('/h', '.local', 'state', 'detbuild', 'cache-key'),
    )
  })
})

test('a key file that could be someone else’s is not used or replaced: the key lives for the run only', async () => {
  await withDir(async (dir) => {
    const good = 'a'.repeat(64)
    const cases: Array<[string, (file: string) => void]> = [
      [
        'writable by others',
        (f) => {
          writeFileSync(f, `${good}\n`)
          chmodSync(f, 0o666)
        },
      ],
      [
        'a link',
        (f) => {
          writeFileSync(`${f}.target`, `${good}\n`, { mode: 0o600 })
          symlinkSync(`${f}.target`, f)
        },
      ],
      ['not 64 hex characters', (f) => writeFileSync(f, 'not a key\n', { mode: 0o600 })],
      ['a folder', (f) => mkdirSync(f)],
    ]
    const sealedWithGood = new CacheSeal(Buffer.from(good, 'hex'), 'file').wrap('body')
    for (const [name, plant] of cases) {
      const state = path.join(dir, name.replace(/\W+/g, '-'))
      mkdirSync(path.join(state, 'detbuild'), { recursive: true })
      const file = path.join(state, 'detbuild', 'cache-key')
      plant(file)
      const seal = await openCacheSeal({ XDG_STATE_HOME: state })
      assert.equal(seal.origin, 'run', name)
      assert.equal(seal.unwrap(sealedWithGood), null, `${name}: its key is not used`)
      assert.equal(seal.unwrap(seal.wrap('body')), 'body', `${name}: the run's own key works`)
    }
    // left as it was
    assert.equal(
      readFileSync(path.join(dir, 'not-64-hex-characters', 'detbuild', 'cache-key'), 'utf8'),
      'not a key\n',
    )
    // a state folder that cannot be made (a file where the folder would be): the run's key
    writeFileSync(path.join(dir, 'blocked'), '')
    assert.equal((await openCacheSeal({ XDG_STATE_HOME: path.join(dir, 'blocked') })).origin, 'run')
  })
})
