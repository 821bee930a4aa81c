import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const fixture = (...parts: string[]) => path.join(repoRoot, 'fixtures', ...parts)
export const tempDir = (prefix = 'detbuild-test-') => mkdtempSync(path.join(tmpdir(), prefix))
