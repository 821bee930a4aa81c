/**
 * The Go team's own scanner as the oracle for detbuild's symbol-level Go findings. govulncheck 1.9.0
 * (Debian's package, pinned by scripts/interop-tools.sh; the test fails, never skips, without it) and
 * detbuild are asked the same question about the same two executables (scripts/go-fixtures.sh builds
 * them with the pinned Go): one calls `golang.org/x/net/http2.(*Server).ServeConn`, a symbol of the real
 * advisory GO-2023-2102, the other only imports the package. The module is a stand-in published as
 * golang.org/x/net v0.15.0 (inside the advisory's range; see its source). govulncheck reads a local copy
 * of the vulnerability database in its own layout (index/*.json, ID/<id>.json) holding that one real
 * record; detbuild reads the same record as an offline OSV export.
 *
 * The contract: detbuild never says `not_affected` where govulncheck finds the vulnerable symbol, and
 * says `not_affected` (vulnerable_code_not_in_execute_path) where govulncheck finds only the module and
 * package; both name the same advisory for the same module.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import { cli } from '../helpers/cli.ts'
import { GO_FIXTURES } from '../helpers/go.ts'
import { repoRoot, tempDir } from './helpers.ts'

const GOVULNCHECK = path.join(repoRoot, '.tools/interop/govulncheck/usr/bin/govulncheck')
const RECORD = path.join(repoRoot, 'test/fixtures/osv/go/records/GO-2023-2102.json')
const PROGRAMS = ['called', 'uncalled'] as const
const program = (name: string) => path.join(GO_FIXTURES, 'oracle', name, `oracle-${name}`)

let work: { dir: string; cleanup: () => Promise<void> }

before(async () => {
  if (!existsSync(GOVULNCHECK))
    throw new Error(
      `no govulncheck at ${GOVULNCHECK}: run ./scripts/interop-tools.sh (or ./scripts/setup.sh test)`,
    )
  for (const p of PROGRAMS)
    if (!existsSync(program(p))) throw new Error(`no ${program(p)}: run ./scripts/go-fixtures.sh`)
  work = await tempDir()
  // govulncheck's database layout (golang.org/x/vuln: index/db.json, index/modules.json, index/vulns.json, ID/)
  const record = JSON.parse(await readFile(RECORD, 'utf8')) as {
    id: string
    modified: string
    aliases?: string[]
    affected: Array<{ package: { name: string }; ranges: Array<{ events: Array<{ fixed?: string }> }> }>
  }
  const db = path.join(work.dir, 'vulndb')
  await mkdir(path.join(db, 'index'), { recursive: true })
  await mkdir(path.join(db, 'ID'), { recursive: true })
  await copyFile(RECORD, path.join(db, 'ID', `${record.id}.json`))
  await writeFile(path.join(db, 'index', 'db.json'), JSON.stringify({ modified: record.modified }))
  await writeFile(
    path.join(db, 'index', 'modules.json'),
    JSON.stringify(
      record.affected.map((a) => ({
        path: a.package.name,
        vulns: [
          {
            id: record.id,
            modified: record.modified,
            fixed: a.ranges.flatMap((r) => r.events.flatMap((e) => (e.fixed ? [e.fixed] : []))).at(-1),
          },
        ],
      })),
    ),
  )
  await writeFile(
    path.join(db, 'index', 'vulns.json'),
    JSON.stringify([{ id: record.id, modified: record.modified, aliases: record.aliases ?? [] }]),
  )
  const osv = path.join(work.dir, 'osv')
  await mkdir(osv)
  await copyFile(RECORD, path.join(osv, `${record.id}.json`))
})

after(async () => {
  await work?.cleanup()
})

interface OracleFinding {
  osv: string
  trace: Array<{ module?: string; package?: string; function?: string; receiver?: string }>
}

/** govulncheck's findings (JSON stream) for one executable: by advisory, the deepest level it reached. */
async function govulncheck(file: string): Promise<Map<string, 'module' | 'package' | 'symbol'>> {
  const { stdout } = await promisify(execFile)(
    GOVULNCHECK,
    ['-mode=binary', '-db', `file://${path.join(work.dir, 'vulndb')}`, '-format', 'json', file],
    { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '' } },
  )
  const out = new Map<string, 'module' | 'package' | 'symbol'>()
  const rank = { module: 0, package: 1, symbol: 2 } as const
  // a stream of indented JSON objects, one after another
  for (const text of stdout.split(/\n(?=\{)/)) {
    const message = JSON.parse(text) as { finding?: OracleFinding }
    if (!message.finding) continue
    const top = message.finding.trace[0] ?? {}
    const level = top.function ? 'symbol' : top.package ? 'package' : 'module'
    const had = out.get(message.finding.osv)
    if (had === undefined || rank[level] > rank[had]) out.set(message.finding.osv, level)
  }
  return out
}

interface Finding {
  id: string
  purl: string
  analysis?: { state: string; justification?: string; method?: string }
}

for (const name of PROGRAMS) {
  test(`oracle-${name}: detbuild's reachability agrees with govulncheck's`, async () => {
    const project = path.join(work.dir, name)
    await mkdir(project)
    await copyFile(program(name), path.join(project, `oracle-${name}`))
    const oracle = await govulncheck(path.join(project, `oracle-${name}`))
    assert.deepEqual([...oracle.keys()], ['GO-2023-2102'], 'govulncheck names the advisory')
    assert.equal(oracle.get('GO-2023-2102'), name === 'called' ? 'symbol' : 'package')

    const sbom = await cli(['sbom', '--binary', `oracle-${name}`, '--quiet'], { cwd: project })
    assert.equal(sbom.code, 0, sbom.stderr)
    const scan = await cli(['scan', '--offline-db', path.join(work.dir, 'osv'), '--quiet'], { cwd: project })
    assert.equal(scan.code, 0, scan.stderr)
    const vulns = JSON.parse(await readFile(path.join(project, '.detbuild', 'vulns.json'), 'utf8')) as {
      findings: Finding[]
    }
    assert.deepEqual(
      vulns.findings.map((f) => [f.id, f.purl]),
      [['GO-2023-2102', 'pkg:golang/golang.org/x/net@v0.15.0']],
    )
    const analysis = vulns.findings[0]!.analysis
    assert.equal(analysis?.method, 'binary')
    if (oracle.get('GO-2023-2102') === 'symbol') assert.equal(analysis?.state, 'affected')
    else {
      assert.equal(analysis?.state, 'not_affected')
      assert.equal(analysis?.justification, 'vulnerable_code_not_in_execute_path')
      const vex = JSON.parse(
        await readFile(path.join(project, '.detbuild', 'vulns.openvex.json'), 'utf8'),
      ) as {
        statements: Array<{ vulnerability: { name: string }; status: string }>
      }
      assert.deepEqual(
        vex.statements.map((s) => [s.vulnerability.name, s.status]),
        [['GO-2023-2102', 'not_affected']],
      )
    }
  })
}

test('one SBOM of both programs: the shared module stays affected (one executable cannot clear the other)', async () => {
  const project = path.join(work.dir, 'both')
  await mkdir(project)
  for (const name of PROGRAMS) await copyFile(program(name), path.join(project, `oracle-${name}`))
  // the uncalled program sorts last: its (clean) functions must not stand for the caller's
  const sbom = await cli(['sbom', '--binary', 'oracle-uncalled', '--binary', 'oracle-called', '--quiet'], {
    cwd: project,
  })
  assert.equal(sbom.code, 0, sbom.stderr)
  const scan = await cli(['scan', '--offline-db', path.join(work.dir, 'osv'), '--quiet'], { cwd: project })
  // the two main modules are unstamped ((devel): no version to match), so the scan says it is incomplete
  assert.equal(scan.code, 3, scan.stderr)
  const vulns = JSON.parse(await readFile(path.join(project, '.detbuild', 'vulns.json'), 'utf8')) as {
    findings: Array<Finding & { analysis?: { code?: string } }>
    unchecked: string[]
    uncheckedReasons: Record<string, string>
  }
  assert.deepEqual(
    vulns.unchecked.map((u) => [u, vulns.uncheckedReasons[u]]),
    [
      ['pkg:golang/example.com/oracle-called', 'no version'],
      ['pkg:golang/example.com/oracle-uncalled', 'no version'],
    ],
  )
  assert.deepEqual(
    vulns.findings.map((f) => [f.id, f.analysis?.state, f.analysis?.code]),
    [['GO-2023-2102', 'affected', 'GO_REACH_BINARY_MISMATCH']],
  )
})
