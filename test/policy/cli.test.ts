import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, it } from 'node:test'
import { cli, KEY_FLAGS, project, readText } from './helpers.ts'

describe('detbuild policy (CLI)', () => {
  it('exit 0 on a compliant workspace with the strict policy, outputs written', async () => {
    const p = await project('good')
    try {
      const r = await cli(['policy', '-C', p.dir, '--policy', 'strict', ...KEY_FLAGS], p.dir)
      assert.equal(r.code, 0, r.stdout + r.stderr)
      assert.match(r.stdout, /verdict: PASS/)
      const json = JSON.parse(await readText(path.join(p.out, 'policy.json')))
      assert.equal(json.verdict, 'pass')
      assert.equal(json.policy.source, 'builtin:strict')
      assert.equal(json.inputs.sbom.file, '.detbuild/sbom.cdx.json')
      assert.match(await readText(path.join(p.out, 'policy.md')), /^## Policy: strict/)
    } finally {
      await p.cleanup()
    }
  })

  it('exit 1 on failing rules, 0 with --warn-only', async () => {
    const p = await project('bad')
    try {
      assert.equal((await cli(['policy', '-C', p.dir], p.dir)).code, 1)
      const w = await cli(['policy', '-C', p.dir, '--warn-only'], p.dir)
      assert.equal(w.code, 0)
      assert.match(w.stdout, /--warn-only/)
    } finally {
      await p.cleanup()
    }
  })

  it('--json prints the result; --vex is repeatable', async () => {
    const p = await project('bad')
    try {
      const vex = path.resolve('fixtures/policy/vex')
      const r = await cli(
        [
          'policy',
          '-C',
          p.dir,
          '--json',
          '--vex',
          path.join(vex, 'openvex.json'),
          '--vex',
          path.join(vex, 'cyclonedx-vex.json'),
        ],
        p.dir,
      )
      const result = JSON.parse(r.stdout)
      assert.equal(result.inputs.vex.length, 2)
      assert.equal(
        result.rules.find((x: { id: string }) => x.id === 'vulnerabilities.severity').status,
        'pass',
      )
      assert.equal(r.code, 1)
    } finally {
      await p.cleanup()
    }
  })

  it('uses the project detbuild.policy.yaml when --policy is not given', async () => {
    const p = await project('bad')
    try {
      await writeFile(
        path.join(p.dir, 'detbuild.policy.yaml'),
        'version: 1\nname: mine\nsbom:\n  ntia:\n    elements: [name]\n',
      )
      const r = await cli(['policy', '-C', p.dir, '--json'], p.dir)
      assert.equal(r.code, 0)
      const result = JSON.parse(r.stdout)
      assert.deepEqual(result.policy.name, 'mine')
      assert.equal(result.policy.source, 'detbuild.policy.yaml')
    } finally {
      await p.cleanup()
    }
  })

  it('a malformed policy exits 2 naming file, key and line', async () => {
    const p = await project('good')
    try {
      await writeFile(path.join(p.dir, 'p.yaml'), 'version: 1\nbuild:\n  reproducable: true\n')
      const r = await cli(['policy', '-C', p.dir, '--policy', 'p.yaml'], p.dir)
      assert.equal(r.code, 2)
      assert.match(r.stderr, /POLICY_INVALID.*p\.yaml.*build\.reproducable \(line 3\)/)
    } finally {
      await p.cleanup()
    }
  })

  it('a missing SBOM exits 2; missing optional inputs only warn', async () => {
    const p = await project()
    try {
      const r = await cli(['policy', '-C', p.dir, '--json'], p.dir)
      assert.equal(r.code, 2)
      assert.equal(JSON.parse(r.stdout).error.code, 'POLICY_SBOM_MISSING')
    } finally {
      await p.cleanup()
    }
  })

  it('writes byte-identical policy.json and policy.md when run twice', async () => {
    const p = await project('bad')
    try {
      await cli(['policy', '-C', p.dir, '--policy', 'strict'], p.dir)
      const first = [
        await readText(path.join(p.out, 'policy.json')),
        await readText(path.join(p.out, 'policy.md')),
      ]
      await cli(['policy', '-C', p.dir, '--policy', 'strict'], p.dir)
      const second = [
        await readText(path.join(p.out, 'policy.json')),
        await readText(path.join(p.out, 'policy.md')),
      ]
      assert.deepEqual(second, first)
      assert.doesNotMatch(first[0]!, new RegExp(p.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    } finally {
      await p.cleanup()
    }
  })
})
