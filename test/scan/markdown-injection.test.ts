/** vulns.md shows what records and SBOMs say as text: no HTML, no links or table cells forged by data. */
import assert from 'node:assert/strict'
import { mkdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { cli } from '../helpers/cli.ts'
import { makeSbom, recordsDir, tempDir, writeJson } from './helpers.ts'

test('a hostile advisory id, alias and fixed version cannot inject markdown or HTML into vulns.md', async () => {
  const t = await tempDir()
  try {
    const record = JSON.parse(await readFile(path.join(recordsDir, 'GHSA-xvch-5gv4-984h.json'), 'utf8'))
    record.id = 'GHSA-x](https://evil.example)<img src=x onerror=alert(1)>|col'
    record.aliases = ['CVE-1 | <b>bold</b> [link](https://evil.example)']
    await mkdir(path.join(t.dir, 'db'))
    await writeJson(path.join(t.dir, 'db', 'evil.json'), record)
    await writeJson(
      path.join(t.dir, 'sbom.json'),
      makeSbom([{ name: 'minimist', version: '1.2.5' }], ['minimist@1.2.5']),
    )
    const r = await cli(['scan', '-C', t.dir, '--sbom', 'sbom.json', '--offline-db', 'db', '-q'])
    assert.equal(r.code, 0, r.stderr)
    const md = await readFile(path.join(t.dir, '.detbuild', 'vulns.md'), 'utf8')
    assert.doesNotMatch(md, /<img|<b>/)
    assert.match(md, /&lt;img src=x onerror=alert\(1\)&gt;/)
    // every `](` from the data is escaped, so no link to the data's URL is formed
    assert.doesNotMatch(md, /(?<!\\)\]\(https:\/\/evil/)
    // the link target is the encoded id, so the id cannot end the URL
    assert.match(md, /\(https:\/\/github\.com\/advisories\/GHSA-x%5D\(https%3A%2F%2Fevil\.example\)%3Cimg/)
    const row = md.split('\n').find((l) => l.includes('minimist@1.2.5'))!
    // 9 columns (with Upgrade): 10 unescaped pipes
    assert.equal(row.replace(/\\\|/g, '').split('|').length - 1, 10, row)
  } finally {
    await t.cleanup()
  }
})
