import { ExitCode, InputError } from '../../errors.ts'
import type { RegisterCommand } from '../context.ts'

interface KeygenOptions {
  algorithm: string
  outputPrefix: string
  keyPasswordEnv: string
  force?: boolean
}

export const register: RegisterCommand = (program, registrar) => {
  program
    .command('keygen')
    .description(
      'make a signing key pair for detbuild sign --key: <prefix>.key (PKCS#8 PEM) and <prefix>.pub',
    )
    .option('--algorithm <name>', 'ecdsa-p256, ecdsa-p384 or ed25519', 'ecdsa-p256')
    .option('--output-prefix <path>', 'file name prefix, relative to --cwd', 'detbuild')
    .option(
      '--key-password-env <name>',
      'encrypt the private key with the passphrase in this variable',
      'DETBUILD_KEY_PASSWORD',
    )
    .option('--force', 'overwrite existing key files', false)
    .action(
      registrar.wrap<KeygenOptions>(async (options, env) => {
        const path = await import('node:path')
        const { exists, isDirectory, toPosixRelative, writeFileAtomic } = await import('../../util/fs.ts')
        const { generateKeyPairPem, KEY_ALGORITHMS } = await import('../../sign/index.ts')
        const { keyIdOf } = await import('../../util/key-id.ts')
        const { createPublicKey } = await import('node:crypto')
        const algorithm = KEY_ALGORITHMS.find((a) => a === options.algorithm)
        if (!algorithm)
          throw new InputError('KEYGEN_USAGE', `--algorithm must be one of ${KEY_ALGORITHMS.join(', ')}`)
        const base = path.resolve(env.globals.cwd, options.outputPrefix)
        const keyFile = `${base}.key`
        const pubFile = `${base}.pub`
        // new folders only inside the project: a typo must not scatter folders (and a private key) elsewhere
        const folder = path.dirname(base)
        const inside = !path.relative(env.globals.cwd, folder).startsWith('..')
        if (!inside && !(await isDirectory(folder)))
          throw new InputError(
            'KEYGEN_USAGE',
            'the folder for --output-prefix does not exist (keygen creates folders only inside the project)',
            { file: toPosixRelative(env.globals.cwd, folder) },
          )
        for (const f of [keyFile, pubFile])
          if (!options.force && (await exists(f)))
            throw new InputError('KEYGEN_EXISTS', 'already exists (use --force to overwrite)', {
              file: toPosixRelative(env.globals.cwd, f),
            })
        const context = await env.resolveContext({ allowEnv: [options.keyPasswordEnv] })
        const passphrase = context.env[options.keyPasswordEnv] || undefined
        if (!passphrase)
          env.log.warn(
            `${options.keyPasswordEnv} is not set: the private key is written unencrypted; keep it secret`,
          )
        const pair = generateKeyPairPem(algorithm, passphrase)
        await writeFileAtomic(keyFile, pair.privateKeyPem, 0o600, toPosixRelative(env.globals.cwd, keyFile))
        await writeFileAtomic(pubFile, pair.publicKeyPem, 0o644, toPosixRelative(env.globals.cwd, pubFile))
        // a private key in a repository that does not ignore it is one `git add -A` away from being published
        if (await notIgnoredByGit(keyFile, context.env))
          env.log.warn(
            `${toPosixRelative(env.globals.cwd, keyFile)} is inside a git repository that does not ignore it: add it to .gitignore (build never stages it, but a push would publish it)`,
          )
        const data = {
          algorithm,
          encrypted: passphrase !== undefined,
          privateKey: toPosixRelative(env.globals.cwd, keyFile),
          publicKey: toPosixRelative(env.globals.cwd, pubFile),
          keyId: keyIdOf(createPublicKey(pair.publicKeyPem)),
        }
        return {
          exitCode: ExitCode.ok,
          data,
          text: `wrote ${data.privateKey} (${algorithm}${data.encrypted ? ', encrypted' : ''}) and ${data.publicKey}\nkey id ${data.keyId}`,
        }
      }),
    )
}

/** True when `file` is inside a git work tree and git does not ignore it (false outside git or without git). */
async function notIgnoredByGit(file: string, hostEnv: NodeJS.ProcessEnv): Promise<boolean> {
  const { execFile } = await import('node:child_process')
  const path = await import('node:path')
  const git = (args: string[]) =>
    new Promise<number | null>((resolve) => {
      execFile('git', ['-C', path.dirname(file), ...args], { env: { ...hostEnv, LC_ALL: 'C' } }, (e) =>
        resolve(e ? (typeof e.code === 'number' ? e.code : null) : 0),
      )
    })
  if ((await git(['rev-parse', '--is-inside-work-tree'])) !== 0) return false
  // check-ignore: 0 ignored, 1 not ignored, anything else an error (then say nothing)
  return (await git(['check-ignore', '-q', '--', path.basename(file)])) === 1
}
