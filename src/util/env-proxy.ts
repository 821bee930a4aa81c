/** Edge (process-wide fetch agents): the host's HTTP(S)_PROXY for detbuild's own fetch calls (OSV, Go proxies). */
import type { Logger } from './log.ts'

/**
 * Honours HTTPS_PROXY / HTTP_PROXY / NO_PROXY for fetch through Node's built-in proxy support
 * (`http.setGlobalProxyFromEnv`, Node ≥ 24.5), without a dependency. Returns a function that restores
 * the previous global agents. On a Node without it, says so instead of silently going direct.
 */
export async function useEnvProxy(env: NodeJS.ProcessEnv, log: Logger): Promise<() => void> {
  const wanted = env.HTTPS_PROXY ?? env.https_proxy ?? env.HTTP_PROXY ?? env.http_proxy
  if (!wanted) return () => {}
  const http = (await import('node:http')) as unknown as {
    setGlobalProxyFromEnv?: (env: NodeJS.ProcessEnv) => () => void
  }
  if (typeof http.setGlobalProxyFromEnv !== 'function') {
    log.warn(
      `a proxy is configured but this Node (${process.version}) cannot apply it at runtime; run with NODE_USE_ENV_PROXY=1`,
    )
    return () => {}
  }
  log.debug('using the proxy from the environment for fetch')
  return http.setGlobalProxyFromEnv(env)
}
