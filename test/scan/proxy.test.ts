/** HTTPS_PROXY / HTTP_PROXY: the OSV client's requests go through the proxy from the environment. */
import assert from 'node:assert/strict'
import { createServer, request } from 'node:http'
import { type AddressInfo, connect } from 'node:net'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { runScan } from '../../src/scan/index.ts'
import { silentLogger } from '../../src/util/log.ts'
import { loadRecords, type OsvFake, startOsvFake } from '../helpers/osv-server.ts'
import { makeSbom, recordsDir, tempDir, writeJson } from './helpers.ts'

let fake: OsvFake
let work: { dir: string; cleanup: () => Promise<void> }
const proxied: string[] = []
// a forward proxy for plain-HTTP targets: absolute-form request lines, relayed as they are
const proxy = createServer((req, res) => {
  proxied.push(`${req.method} ${req.url}`)
  const target = new URL(req.url ?? '')
  const upstream = request(
    {
      host: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      method: req.method,
      headers: req.headers,
    },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers)
      up.pipe(res)
    },
  )
  upstream.on('error', () => res.writeHead(502).end())
  req.pipe(upstream)
})

// and tunnels (CONNECT), which is how fetch reaches any target through a proxy
proxy.on('connect', (req, client, head) => {
  proxied.push(`CONNECT ${req.url}`)
  const [host, port] = (req.url ?? '').split(':')
  const upstream = connect(Number(port), host, () => {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
    upstream.write(head)
    upstream.pipe(client)
    client.pipe(upstream)
  })
  upstream.on('error', () => client.destroy())
  client.on('error', () => upstream.destroy())
})

before(async () => {
  fake = await startOsvFake(loadRecords(recordsDir), { pageSize: 100 })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  work = await tempDir()
  const pkgs = [{ name: 'minimist', version: '1.2.5' }]
  await writeJson(path.join(work.dir, 'sbom.json'), makeSbom(pkgs, ['minimist@1.2.5']))
})
after(async () => {
  proxy.closeAllConnections()
  await new Promise<void>((resolve) => proxy.close(() => resolve()))
  await fake.close()
  await work.cleanup()
})

test('HTTP_PROXY from the environment carries the OSV requests, and the findings are the same', async () => {
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
  const result = await runScan({
    cwd: work.dir,
    out: path.join(work.dir, 'out'),
    sbom: 'sbom.json',
    osvUrl: fake.url,
    cacheDir: null,
    failOn: null,
    omitDev: false,
    env: { SOURCE_DATE_EPOCH: '1700000000', HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl },
    now: new Date('2026-01-01T00:00:00Z'),
    log: silentLogger,
    client: { timeoutMs: 3000, retries: 1, sleep: async () => {} },
  })
  assert.equal(result.exitCode, 0, `${JSON.stringify(result.report.unchecked)} ${proxied.join(', ')}`)
  assert.equal(result.report.complete, true)
  assert.deepEqual(
    result.report.findings.map((f) => f.id),
    ['GHSA-xvch-5gv4-984h'],
  )
  // the requests went through the proxy: fetch tunnels (CONNECT) to the fake OSV server even for http://
  const host = new URL(fake.url).host
  assert.ok(
    proxied.some((line) => line === `CONNECT ${host}` || line.startsWith(`POST ${fake.url}/v1/querybatch`)),
    proxied.join('\n'),
  )
})
