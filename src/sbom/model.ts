/** The SBOM step's options model; the inventory it reads is the ecosystems' shared model. */
export type { Inventory, InventoryNode } from '../ecosystems/index.ts'

export const OMIT_TYPES = ['dev', 'optional', 'peer'] as const
export type OmitType = (typeof OMIT_TYPES)[number]
