/**
 * One user choice of a step, declared once in the step (sign/flags.ts, verify/flags.ts): the CLI
 * commands, `detbuild run`'s flags and the Action's inputs are derived from these tables. Data only.
 */
export interface FlagSpec<K extends string = string> {
  /** the option's name in the step's own options type (e.g. SignFlags, TrustFlags) */
  key: K
  /** the step's own flag with its argument (`--key <file>`); a boolean as `--flag` or `--no-flag` */
  flag: string
  /** help text of the step's own command */
  description: string
  /** the default of the step's own command (`detbuild run` and the Action apply none) */
  default?: string | boolean
  /** `detbuild run`: the flag there (when it differs) and its help; absent: not a run flag */
  run?: { flag?: string; description: string }
  /** the Action input read as a plain string (default ""); absent: no input, or one read specially */
  input?: string
}
