/**
 * Fuzz: the configuration file (detbuild.config.json / .yaml), structurally mutated, through `run`
 * (which reads its `run` section) and the loader `build` and `lock` use (every section, schema checked).
 * `build` itself is not run on mutated configs: a mutated `build` command would be executed.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, test } from 'node:test'
import fc from 'fast-check'
import { loadBuildConfig } from '../../src/config/load-build-config.ts'
import { isDetbuildError } from '../../src/errors.ts'
import { breach, check, fixture, runChecked, scratch } from './harness.ts'
import {
  documentMutation,
  type Json,
  mutateDocument,
  mutateYamlText,
  toJsonText,
  toYamlText,
  yamlExtra,
} from './mutate.ts'

const work = scratch(fixture('small-app'))
after(() => work.dispose())
// a workspace policy can judge: the run's own steps stay cheap (its sbom step validates the schema)
cpSync(fixture('policy', 'good'), path.join(work.dir, 'ws'), { recursive: true })

const SEED_CONFIG = {
  ...(JSON.parse(readFileSync(fixture('ts-lib', 'detbuild.config.json'), 'utf8')) as Record<string, Json>),
  run: { steps: ['sbom', 'policy'], policy: 'default', failOn: 'high', sign: 'none' },
} as unknown as Json
delete (SEED_CONFIG as Record<string, Json>).$schema

const configMutation = fc.tuple(fc.boolean(), documentMutation, yamlExtra).map(([yaml, m, extra]) => {
  let mutated = mutateDocument(SEED_CONFIG, m, yaml ? toYamlText : toJsonText)
  if (yaml) {
    const y = mutateYamlText(mutated.text, extra)
    mutated = { text: y.text, description: [mutated.description, y.description].filter(Boolean).join('; ') }
  }
  return { name: yaml ? 'detbuild.config.yaml' : 'detbuild.config.json', ...mutated }
})

test('config, mutated: run (its run section, then the policy it names) exits 0–3 without a stack trace', async () => {
  await check(40, configMutation, async (c) => {
    writeFileSync(path.join(work.dir, c.name), c.text)
    await runChecked(
      ['--json', '--out', 'ws', 'run', '--config', c.name, '--steps', 'policy', '--no-verify'],
      work.dir,
      `${c.name}: ${c.description}`,
    )
  })
})

test('config, mutated: the build configuration loader accepts it or rejects it as bad input (exit 2)', async () => {
  await check(150, configMutation, async (c) => {
    writeFileSync(path.join(work.dir, c.name), c.text)
    try {
      await loadBuildConfig(work.dir, c.name)
    } catch (e) {
      if (!isDetbuildError(e) || e.exitCode !== 2)
        breach(
          `loader threw ${isDetbuildError(e) ? `${e.code} (exit ${e.exitCode})` : `a non-detbuild ${(e as Error)?.name}: ${(e as Error)?.message}`}`,
          ['build', '--config', c.name],
          `${c.name}: ${c.description}`,
        )
    }
  })
})
