/**
 * A loopback forward proxy that records every request and refuses it: plain HTTP gets 403, a CONNECT
 * tunnel (HTTPS) gets 403 and is closed. Pointed at by HTTP(S)_PROXY, it stands in for a machine
 * without network: a process that tried to reach anything shows up in `seen`.
 */
import http from 'node:http'
import type net from 'node:net'
import type { AddressInfo } from 'node:net'

export interface RefusingProxy {
  url: string
  /** requests seen: `GET <url>` or `CONNECT <host:port>` */
  seen: string[]
  /** the variables that send a child process's HTTP(S) through it (Node's own fetch and npm's agent) */
  env: Record<string, string>
  close(): Promise<void>
}

export async function startRefusingProxy(): Promise<RefusingProxy> {
  const seen: string[] = []
  const sockets = new Set<net.Socket>()
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`)
    res.writeHead(403, { connection: 'close' }).end('refused: no network in this test\n')
  })
  server.on('connection', (s) => sockets.add(s))
  server.on('connect', (req, socket) => {
    seen.push(`CONNECT ${req.url}`)
    socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    seen,
    env: {
      HTTP_PROXY: url,
      HTTPS_PROXY: url,
      http_proxy: url,
      https_proxy: url,
      NO_PROXY: '',
      no_proxy: '',
      NODE_USE_ENV_PROXY: '1',
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy()
        server.close(() => r())
      }),
  }
}
