/**
 * cdxgen (@cyclonedx/cdxgen), an SBOM anchor that is not a dependency of detbuild: installed once, at a pinned
 * version, from the npm registry into the bench cache (outside the repository), by `npm install --prefix`.
 * DETBUILD_BENCH_CDXGEN=<path to bin/cdxgen.js> uses another copy instead.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { benchCacheDir, requireTool, run } from '../lib.ts'

export const CDXGEN_VERSION = '12.8.4'

/** The path of cdxgen's CLI script, installing it first when the cache has none. */
export function cdxgenBin(): string {
  if (process.env.DETBUILD_BENCH_CDXGEN) {
    return requireTool(
      process.env.DETBUILD_BENCH_CDXGEN,
      'cdxgen (DETBUILD_BENCH_CDXGEN)',
      'point it at bin/cdxgen.js',
    )
  }
  const prefix = path.join(benchCacheDir(), `cdxgen-${CDXGEN_VERSION}`)
  const bin = path.join(prefix, 'node_modules', '@cyclonedx', 'cdxgen', 'bin', 'cdxgen.js')
  if (!existsSync(bin)) {
    console.log(`installing @cyclonedx/cdxgen@${CDXGEN_VERSION} into ${prefix} (once)`)
    try {
      run(
        [
          'npm',
          'install',
          '--prefix',
          prefix,
          '--no-audit',
          '--no-fund',
          '--omit=optional',
          '--ignore-scripts',
          `@cyclonedx/cdxgen@${CDXGEN_VERSION}`,
        ],
        process.cwd(),
      )
    } catch (e) {
      throw new Error(
        `cdxgen is missing and could not be installed (${(e as Error).message.split('\n')[0]}): run ` +
          `\`npm install --prefix ${prefix} @cyclonedx/cdxgen@${CDXGEN_VERSION}\` with registry access, ` +
          'or set DETBUILD_BENCH_CDXGEN to an installed bin/cdxgen.js',
      )
    }
  }
  return requireTool(bin, 'cdxgen', `npm install --prefix ${prefix} @cyclonedx/cdxgen@${CDXGEN_VERSION}`)
}
