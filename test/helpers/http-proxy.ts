/**
 * A loopback forward proxy for tests: plain HTTP requests with absolute URLs, and CONNECT tunnels
 * (HTTPS). Host names in `hosts` are mapped to 127.0.0.1, so a URL with such a name is reachable only
 * through the proxy: a fetch that succeeds proved it went through.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import net from 'node:net'

export interface FakeProxy {
  url: string
  /** requests seen: `GET <url>` or `CONNECT <host:port>` */
  seen: string[]
  close(): Promise<void>
}

export async function startProxy(hosts: readonly string[]): Promise<FakeProxy> {
  const seen: string[] = []
  const tunnels = new Set<net.Socket>()
  const map = (host: string) => (hosts.includes(host) ? '127.0.0.1' : host)
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`)
    const target = new URL(req.url ?? '')
    const up = http.request(
      {
        host: map(target.hostname),
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: req.method,
        headers: { ...req.headers, host: target.host },
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers)
        r.pipe(res)
      },
    )
    up.on('error', () => res.writeHead(502).end())
    req.pipe(up)
  })
  server.on('connect', (req, socket, head) => {
    seen.push(`CONNECT ${req.url}`)
    const [host, port] = (req.url ?? '').split(':') as [string, string]
    tunnels.add(socket as net.Socket)
    const up = net.connect(Number(port), map(host), () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      up.write(head)
      up.pipe(socket)
      socket.pipe(up)
    })
    tunnels.add(up)
    up.on('error', () => socket.destroy())
    socket.on('error', () => up.destroy())
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const s of tunnels) s.destroy()
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}
