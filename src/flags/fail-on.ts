/**
 * The `--fail-on` levels, declared once: `detbuild scan` and `detbuild run` flags, the config's
 * `run.failOn`, the Action's `fail-on` input (checked against action.yml by a test) come from here.
 * Data only, so that the CLI can offer the choices without loading the scan.
 */
export const FailOnLevels = ['any', 'low', 'medium', 'high', 'critical'] as const
export type FailOn = (typeof FailOnLevels)[number]
