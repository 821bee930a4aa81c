/**
 * The npm ecosystem: projects with package.json and package-lock.json / npm-shrinkwrap.json (v2/v3 read
 * directly, v1 and installed trees with @npmcli/arborist), `pkg:npm` package URLs, OSV's "npm" advisories, semver versions.
 */
import type { Ecosystem, ReadInventoryOptions } from '../ecosystem.ts'
import { semverOrder } from '../semver-order.ts'
import { npmQueryPurl, toNpmName } from './names.ts'
import { toPurl } from './purl.ts'
import { detectNpmProject, readInventory, readProjectLock } from './read-inventory.ts'
import { readNpmRegistryMetadata } from './registry-metadata.ts'

/** The npm adapter (frozen: one shared instance). */
export const npmEcosystem: Ecosystem = Object.freeze({
  id: 'npm',
  purlType: 'npm',
  osvEcosystem: 'npm',
  manifestFile: 'package.json',
  ...semverOrder,
  detect: detectNpmProject,
  readInventory: (projectDir: string, options: ReadInventoryOptions) =>
    readInventory(projectDir, options.source),
  toPurl,
  componentName: toNpmName,
  queryPurl: npmQueryPurl,
  readProjectLock,
  readRegistryMetadata: readNpmRegistryMetadata,
})
