/**
 * The door of `flags/`: the user choices declared once — the signing flags, the verify (trust) flags and
 * the `--fail-on` levels — from which the CLI's options, `run`'s flags and options and the Action's inputs
 * are derived. Data only, so the CLI can offer the choices without loading the steps' cores.
 */
export { type FailOn, FailOnLevels } from './fail-on.ts'
export { SIGNING_FLAGS } from './signing.ts'
export { TRUST_FLAGS } from './trust.ts'
