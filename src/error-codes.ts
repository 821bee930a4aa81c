/**
 * The catalogue of every error and reason code detbuild reports, one `as const` object per domain. A
 * code is `DOMAIN_REASON`; its entry gives the exit code it ends a command with (`exit`; `alsoExit` when the
 * same code is reported in a second situation) and a one-line hint for the user. `ErrorCode` is the union of
 * all keys: the error classes in `errors.ts` take it, so a mistyped code does not compile. docs/errors.md
 * documents every entry, and test/errors/catalogue.test.ts checks that both lists match what `src/` uses.
 *
 * The exit codes are plain numbers (the values of `ExitCode` in errors.ts) so that this file imports nothing.
 */

/** One catalogue entry. */
interface ErrorCodeInfo {
  /** the exit code (1 check failed, 2 bad input, 3 incomplete, 70 internal) */
  readonly exit: 1 | 2 | 3 | 70
  /** another exit code the same code is reported with, in a second situation (docs/errors.md says which) */
  readonly alsoExit?: 1 | 2 | 3 | 70
  /** what to do, in one line */
  readonly hint: string
}

type Domain<P extends string> = Record<`${P}_${string}`, ErrorCodeInfo>

/** The GitHub Action's own inputs and outputs. */
const ACTION = {
  ACTION_ARTIFACT_NAME_INVALID: {
    exit: 2,
    hint: 'rename the output file: an artifact name must be a plain file name',
  },
  ACTION_BUILD_MANIFEST_INVALID: {
    exit: 2,
    hint: 'run the build step again; build.json was changed or damaged',
  },
  ACTION_INPUT_INVALID: { exit: 2, hint: 'fix the input in the workflow file (see docs/run-action.md)' },
  ACTION_OUTPUT_INVALID: { exit: 2, hint: 'rename the file: an output value cannot hold a line break' },
  ACTION_OUTPUT_NAME_INVALID: { exit: 70, hint: 'a bug in detbuild: please report it' },
} as const satisfies Domain<'ACTION'>

/** `build` and `init`: the build configuration, the toolchain, the build room, the outputs. */
const BUILD = {
  BUILD_ARCHIVE_INVALID: {
    exit: 2,
    hint: 'an output archive cannot be normalized: check the file the message names',
  },
  BUILD_CA_INVALID: { exit: 2, hint: 'point NODE_EXTRA_CA_CERTS / npm_config_cafile at a readable PEM file' },
  BUILD_COMMAND_FAILED: { exit: 1, hint: 'read the build log (build-log.txt) and fix the build command' },
  BUILD_GITIGNORE_INVALID: { exit: 2, hint: 'shrink the .gitignore the message names' },
  BUILD_GIT_NOT_A_REPOSITORY: {
    exit: 2,
    hint: 'drop "git": true from the configuration, or build a git checkout with a commit',
  },
  BUILD_GIT_ROOM_FAILED: {
    exit: 2,
    hint: 'check that git works in the project (git status) and read what git said',
  },
  BUILD_LOCKFILE_INVALID: {
    exit: 2,
    hint: 'fix the lockfile entry the message names, or regenerate it with npm install',
  },
  BUILD_LOCK_INVALID: { exit: 2, hint: 'run "detbuild lock" again to rewrite detbuild.lock' },
  BUILD_LOCK_MISSING: { exit: 2, hint: 'run "detbuild lock" to pin the toolchain' },
  BUILD_NOT_REPRODUCIBLE: {
    exit: 1,
    hint: 'read repro-report.md for the outputs that differ and the variation that changed them',
  },
  BUILD_NO_OUTPUTS: { exit: 1, hint: 'fix "outputs" in the configuration, or the build so it writes them' },
  BUILD_OUTPUT_COLLISION: { exit: 2, hint: 'give the outputs distinct file names: artifacts/ is flat' },
  BUILD_OUTPUT_NAME_INVALID: { exit: 2, hint: 'rename the output to a plain, portable file name' },
  BUILD_OUTPUT_OUTSIDE: {
    exit: 2,
    hint: 'make the output a regular file inside the build tree, not a symlink out of it',
  },
  BUILD_PACKAGE_JSON_INVALID: { exit: 2, hint: 'fix package.json (or lerna.json) so it is a JSON object' },
  BUILD_PACKAGE_JSON_MISSING: { exit: 2, hint: 'run init in the folder that holds package.json (-C)' },
  BUILD_PREFETCH_FAILED: { exit: 3, hint: 'check the network and the registry, then run again' },
  BUILD_PREFETCH_INTEGRITY: {
    exit: 1,
    hint: 'the registry served other bytes than the lockfile pins: investigate before trusting it',
  },
  BUILD_PREFETCH_UNSUPPORTED: {
    exit: 2,
    hint: 'use network: "allow" or a published version of the git dependency',
  },
  BUILD_ROOM_INVALID: { exit: 2, hint: 'fix DETBUILD_ROOM / DETBUILD_ROOM_MOUNTS (see docs/build.md)' },
  BUILD_ROOM_OPTIONS_INVALID: { exit: 70, hint: 'a bug in detbuild: please report it' },
  BUILD_ROOM_UNAVAILABLE: {
    exit: 3,
    hint: 'install what the message names (bwrap or unshare), or choose another DETBUILD_ROOM',
  },
  BUILD_GO_MODULE_MISSING: { exit: 2, hint: 'add a "module" line to go.mod (go mod init writes one)' },
  BUILD_GO_NO_MAIN_PACKAGE: {
    exit: 2,
    hint: 'init found no main package to build: write the build command of detbuild.config.json yourself',
  },
  BUILD_SOURCE_EMPTY: { exit: 2, hint: 'commit the sources, or fix the "include" globs' },
  BUILD_TOOLCHAIN_INTEGRITY: {
    exit: 1,
    hint: 'the toolchain is not the one detbuild.lock pins: investigate, or run "detbuild lock" on purpose',
  },
  BUILD_TOOLCHAIN_NOT_FOUND: {
    exit: 2,
    hint: 'pin a published Node version, or put node on PATH for "system"',
  },
  BUILD_TOOLCHAIN_UNAVAILABLE: { exit: 3, hint: 'check the network and the registry, then run again' },
  BUILD_VARIATION_SKIPPED: {
    exit: 1,
    hint: 'install what the variation needs (see docs/build.md), or drop --strict',
  },
} as const satisfies Domain<'BUILD'>

/** `bundle`: the workspace checked before anything is signed. */
const BUNDLE = {
  BUNDLE_ARTIFACT_MISSING: { exit: 2, hint: 'run detbuild build again, or drop --include-artifacts' },
  BUNDLE_FILE_INVALID: { exit: 2, hint: 'run the step that writes the file again' },
  BUNDLE_INPUT_MISSING: { exit: 2, hint: 'run the step that writes the missing file' },
  BUNDLE_STALE_INPUT: {
    exit: 2,
    hint: 'run the steps after build again, so every file describes the same build',
  },
  BUNDLE_VALIDATION_UNAVAILABLE: {
    exit: 3,
    hint: 'run again; the check could not run here (see the message)',
  },
} as const satisfies Domain<'BUNDLE'>

/** The configuration file and the environment it is resolved with. */
const CONFIG = {
  CONFIG_ENV_SECRET: {
    exit: 2,
    hint: 'remove the variable from the configuration: secrets never reach a build',
  },
  CONFIG_CACHE_KEY_INVALID: {
    exit: 2,
    hint: 'set DETBUILD_CACHE_KEY to a secret of at least 32 characters, or unset it',
  },
  CONFIG_EXISTS: { exit: 2, hint: 'pass --force to overwrite the configuration file' },
  CONFIG_INVALID: { exit: 2, hint: 'fix the configuration file at the path the message names' },
  CONFIG_MISSING: { exit: 2, hint: 'run "detbuild init" to write a configuration file' },
  CONFIG_SOURCE_DATE_EPOCH_INVALID: {
    exit: 2,
    hint: 'set SOURCE_DATE_EPOCH to a whole number of seconds, or unset it',
  },
} as const satisfies Domain<'CONFIG'>

/** The ecosystem registry (src/ecosystems/): programming errors only. */
const ECOSYSTEM = {
  ECOSYSTEM_DUPLICATE: { exit: 70, hint: 'a bug in detbuild: please report it' },
  ECOSYSTEM_REGISTRY_EMPTY: { exit: 70, hint: 'a bug in detbuild: please report it' },
} as const satisfies Domain<'ECOSYSTEM'>

/** Go projects, Go executables and Go builds (docs/go.md). */
const GO = {
  GO_BINARY_BUILDINFO_INVALID: {
    exit: 2,
    hint: 'the executable carries Go build info that does not decode: rebuild it or replace the file',
  },
  GO_BINARY_MALFORMED: {
    exit: 2,
    hint: "the executable's headers contradict each other: replace the file with an intact copy",
  },
  GO_BINARY_PCLNTAB_INVALID: {
    exit: 2,
    hint: "the executable's Go function table does not decode: replace the file with an intact copy",
  },
  GO_BINARY_TOO_LARGE: { exit: 2, hint: 'a table in the executable is larger than detbuild reads (256 MiB)' },
  GO_BINARY_TRUNCATED: {
    exit: 2,
    hint: 'the executable is cut short (an interrupted download?): replace the file with an intact copy',
  },
  GO_BINARY_NOT_GO: {
    exit: 2,
    hint: 'sbom --binary: name an executable built by Go (with its build info; `go version -m FILE` shows it)',
  },
  GO_BINARY_UNREADABLE: { exit: 2, hint: 'check that the file exists and can be read' },
  GO_LIST_FAILED: {
    exit: 3,
    hint: 'fill the module cache (go mod download) or leave out --go-list; the message names what go said',
  },
  GO_LIST_UNAVAILABLE: { exit: 3, hint: 'put a go command on PATH, or leave out --go-list' },
  GO_MOD_INCONSISTENT: { exit: 2, hint: 'run go mod tidy, then detbuild sbom again' },
  GO_MOD_SYNTAX: { exit: 2, hint: 'fix go.mod at the line the message names (go mod tidy rewrites it)' },
  GO_VENDOR_INVALID: {
    exit: 2,
    hint: 'vendor/modules.txt is not what go mod vendor writes: run go mod vendor again and commit the result',
  },
  GO_MOD_UNREADABLE: { exit: 2, hint: 'fix the path or permissions of go.mod' },
  // reasons a Go finding stays affected (vulns.json `analysis.code`): it counts for --fail-on and policy
  GO_REACH_BINARY_DIGEST_MISMATCH: {
    exit: 1,
    hint: 'the executable is not the one the SBOM was made from: run detbuild sbom again on the current files',
  },
  GO_REACH_BINARY_MISMATCH: {
    exit: 1,
    hint: 'the executable does not hold the module version the SBOM says: run detbuild sbom again',
  },
  GO_REACH_BINARY_MISSING: {
    exit: 1,
    hint: 'keep the executable the SBOM was read from at its path in the project when scanning',
  },
  GO_REACH_BINARY_UNREADABLE: {
    exit: 1,
    hint: "the executable has no readable Go function table: fix or upgrade the finding's package",
  },
  GO_REACH_NO_EVIDENCE: {
    exit: 1,
    hint: 'scan in the Go project folder (go.mod), or from an SBOM of the executable',
  },
  GO_REACH_NO_SYMBOLS: { exit: 1, hint: 'the advisory lists no vulnerable symbols: upgrade the package' },
  GO_REACH_PACKAGE_IMPORTED: { exit: 1, hint: 'the program imports the vulnerable package: upgrade it' },
  GO_REACH_SOURCE_INCOMPLETE: {
    exit: 1,
    hint: 'set GOROOT to the scanned Go release and fill the module cache (go mod download), then scan again',
  },
  GO_REACH_SYMBOL_PRESENT: {
    exit: 1,
    hint: 'the executable contains the vulnerable code: upgrade the package',
  },
  GO_REACH_TOOLCHAIN: { exit: 1, hint: 'upgrade the Go toolchain the project is built with' },
  GO_SUM_SYNTAX: { exit: 2, hint: 'fix go.sum at the line the message names (go mod tidy rewrites it)' },
  GO_SUM_UNREADABLE: { exit: 2, hint: 'fix the path or permissions of go.sum' },
  GO_MODULE_CHECKSUM_MISMATCH: {
    exit: 1,
    hint: 'the module proxy served a module that does not match go.sum: investigate the proxy, never edit go.sum to match',
  },
  GO_MODULE_NOT_FOUND: {
    exit: 2,
    hint: 'the module proxy does not have the module go.sum names: check GOPROXY and go.sum',
  },
  GO_MODULE_PATH_INVALID: { exit: 2, hint: 'fix the module path in go.sum' },
  GO_MODULE_TOO_LARGE: {
    exit: 2,
    hint: 'a module file is larger than Go allows (500 MiB zip, 16 MiB go.mod): check the proxy',
  },
  GO_MODULE_ZIP_INVALID: {
    exit: 1,
    hint: "the module proxy served a zip that breaks Go's module zip rules: investigate the proxy",
  },
  GO_PROXY_INVALID: {
    exit: 2,
    hint: 'set GOPROXY to an http(s) module proxy URL (or unset it for https://proxy.golang.org); with GOPROXY=off, fill the cache online first',
  },
  GO_PROXY_UNAVAILABLE: {
    exit: 3,
    hint: 'the Go module proxy could not be reached: retry, or check GOPROXY and the network',
  },
  GO_TOOLCHAIN_CHECKSUM_MISMATCH: {
    exit: 1,
    hint: 'the Go toolchain is not the one detbuild.lock pins: investigate; to pin another on purpose, delete its goToolchains entry',
  },
  GO_TOOLCHAIN_ZIP_INVALID: {
    exit: 1,
    hint: 'the golang.org/toolchain zip is damaged or not the release it claims to be: investigate the proxy',
  },
  GO_SUMDB_CONFIG: {
    exit: 2,
    hint: 'GOSUMDB is off, sum.golang.org, or a verifier key <name>+<hash>+<key>, optionally followed by an http(s) URL',
  },
  GO_SUMDB_UNAVAILABLE: {
    exit: 3,
    hint: 'the Go checksum database could not be asked: check the network, GOPROXY (its /sumdb/ path) and GOSUMDB; GOSUMDB=off skips it (recorded)',
  },
  GO_SUMDB_INVALID: {
    exit: 1,
    hint: "the checksum database's answer does not verify (signature, tree head or inclusion proof): investigate the proxy or database, do not turn it off to pass",
  },
  GO_SUMDB_MISMATCH: {
    exit: 1,
    hint: 'the module proxy served a zip the Go checksum database does not record: the proxy is lying or compromised',
  },
} as const satisfies Domain<'GO'>

/** `bundle`, `inspect`, `verify --evidence`: the evidence archive and what it holds. */
const EVIDENCE = {
  EVIDENCE_ARCHIVE_INVALID: { exit: 2, hint: 'pass the evidence.tar.gz that detbuild bundle wrote' },
  EVIDENCE_ARCHIVE_TOO_LARGE: {
    exit: 1,
    hint: 'refuse the archive: it is larger than any evidence detbuild writes',
  },
  EVIDENCE_ARCHIVE_UNREADABLE: { exit: 2, hint: 'check the path of the evidence archive' },
  EVIDENCE_ARTIFACT_NOT_IN_BUILD: { exit: 1, hint: 'the artifact is not the one this evidence is about' },
  EVIDENCE_ARTIFACT_NOT_IN_PROVENANCE: {
    exit: 1,
    hint: 'the artifact is not the one this evidence is about',
  },
  EVIDENCE_BUILD_MISSING: { exit: 1, hint: 'bundle again from a workspace that holds build.json' },
  EVIDENCE_ENTRY_ABSOLUTE: { exit: 1, hint: 'refuse the archive: detbuild never writes such a member' },
  EVIDENCE_ENTRY_DEVICE: { exit: 1, hint: 'refuse the archive: detbuild never writes such a member' },
  EVIDENCE_ENTRY_DUPLICATE: { exit: 1, hint: 'refuse the archive: detbuild never writes such a member' },
  EVIDENCE_ENTRY_HARDLINK: { exit: 1, hint: 'refuse the archive: detbuild never writes such a member' },
  EVIDENCE_ENTRY_PATH_INVALID: { exit: 1, hint: 'refuse the archive: detbuild never writes such a member' },
  EVIDENCE_ENTRY_SYMLINK: { exit: 1, hint: 'refuse the archive: detbuild never writes such a member' },
  EVIDENCE_ENTRY_TOO_LARGE: { exit: 1, hint: 'refuse the archive: detbuild never writes such a member' },
  EVIDENCE_ENTRY_TRAVERSAL: { exit: 1, hint: 'refuse the archive: detbuild never writes such a member' },
  EVIDENCE_ENTRY_TYPE: { exit: 1, hint: 'refuse the archive: detbuild never writes such a member' },
  EVIDENCE_FILE_INVALID: { exit: 1, hint: 'a file in the archive is damaged: refuse the archive' },
  EVIDENCE_FILE_MISSING: { exit: 1, hint: 'the archive lost a file its manifest lists: refuse it' },
  EVIDENCE_FILE_MODIFIED: { exit: 1, hint: 'a file changed after signing: refuse the archive' },
  EVIDENCE_FILE_TOO_LARGE: {
    exit: 2,
    hint: 'keep the file out of the workspace: no verifier would accept it',
  },
  EVIDENCE_FILE_UNLISTED: { exit: 1, hint: 'a file was added after signing: refuse the archive' },
  EVIDENCE_INPUT_MISSING: { exit: 1, hint: 'the evidence is incomplete: bundle again after every step ran' },
  EVIDENCE_MANIFEST_CONTRADICTED: {
    exit: 1,
    hint: 'the manifest and the files disagree: refuse the archive',
  },
  EVIDENCE_MANIFEST_INVALID: { exit: 1, hint: 'the manifest is damaged: refuse the archive' },
  EVIDENCE_MANIFEST_MISSING: { exit: 1, hint: 'pass an archive written by detbuild bundle' },
  EVIDENCE_MANIFEST_MODIFIED: { exit: 1, hint: 'the manifest changed after signing: refuse the archive' },
  EVIDENCE_POLICY_FAILED: { exit: 1, hint: 'the evidence fails the policy: read the rules that fail' },
  EVIDENCE_POLICY_FILE_CHANGED: { exit: 2, hint: 'run detbuild policy again, then bundle' },
  EVIDENCE_POLICY_FILE_MISSING: { exit: 2, hint: 'run detbuild policy again, then bundle' },
  EVIDENCE_PROVENANCE_MISSING: {
    exit: 1,
    hint: 'bundle again from a workspace that holds provenance.intoto.json',
  },
  EVIDENCE_SBOM_MISSING: { exit: 1, hint: 'bundle again from a workspace that holds sbom.cdx.json' },
  EVIDENCE_SIGNATURE_BUNDLE_INVALID: {
    exit: 1,
    hint: 'the manifest signature is damaged: refuse the archive',
  },
  EVIDENCE_SIGNATURE_CHAIN_UNTRUSTED: {
    exit: 1,
    hint: 'pass the trusted root the signer used (--trusted-root)',
  },
  EVIDENCE_SIGNATURE_IDENTITY_MISMATCH: {
    exit: 1,
    hint: 'check --certificate-identity / --certificate-oidc-issuer',
  },
  EVIDENCE_SIGNATURE_INVALID: { exit: 1, hint: 'the manifest signature does not verify: refuse the archive' },
  EVIDENCE_SIGNATURE_KEY_MISMATCH: {
    exit: 1,
    hint: 'verify with the key (or identity) the archive was signed with',
  },
  EVIDENCE_SIGNATURE_MISSING: { exit: 1, hint: 'bundle with signing: an unsigned manifest proves nothing' },
  EVIDENCE_SIGNATURE_TIMESTAMP_INVALID: {
    exit: 1,
    hint: 'the signature timestamp does not verify: refuse the archive',
  },
  EVIDENCE_SIGNATURE_TLOG_INVALID: {
    exit: 1,
    hint: 'the transparency-log entry does not verify: refuse the archive',
  },
  EVIDENCE_SIGNATURE_TLOG_MISSING: {
    exit: 1,
    hint: 'sign with a transparency log; for a key signature, --insecure-ignore-tlog accepts none',
  },
  EVIDENCE_SIGNATURE_UNSUPPORTED: { exit: 1, hint: 'sign the manifest with detbuild bundle' },
  EVIDENCE_STALE_INPUT: {
    exit: 1,
    hint: 'the files describe different builds: bundle again after running every step',
  },
  EVIDENCE_SUBJECTS_MISMATCH: { exit: 1, hint: 'the provenance and build.json disagree: refuse the archive' },
  EVIDENCE_TOO_MANY_ENTRIES: {
    exit: 1,
    hint: 'refuse the archive: it has more members than any evidence detbuild writes',
  },
  EVIDENCE_WORKSPACE_EMPTY: { exit: 2, hint: 'run detbuild build, sbom, scan, policy and sign first' },
  EVIDENCE_WORKSPACE_MISSING: { exit: 2, hint: 'run the other steps first, or pass --out' },
  EVIDENCE_WORKSPACE_UNREADABLE: { exit: 2, hint: 'run the step that writes the file again' },
} as const satisfies Domain<'EVIDENCE'>

/** Input files shared by every command: size, depth, JSON and YAML. */
const INPUT = {
  INPUT_JSON_INVALID: { exit: 2, hint: 'fix the JSON at the line and column the message names' },
  INPUT_PATH_UNUSABLE: { exit: 2, hint: 'fix the path the message names' },
  INPUT_TOO_DEEP: { exit: 2, hint: 'the file is nested too deep to be real data: check where it came from' },
  INPUT_TOO_LARGE: { exit: 2, hint: 'raise the cap with --max-input-bytes if the file is genuine' },
  INPUT_UNREADABLE: { exit: 2, hint: 'fix the path, or the permissions, of the file the message names' },
  INPUT_YAML_ALIASES: { exit: 2, hint: 'expand the aliases in the file by hand' },
} as const satisfies Domain<'INPUT'>

/** `inspect`. */
const INSPECT = {
  INSPECT_USAGE: { exit: 2, hint: 'pass the evidence archive: detbuild inspect evidence.tar.gz' },
} as const satisfies Domain<'INSPECT'>

/** Bugs: an invariant that should hold did not. */
const INTERNAL = {
  INTERNAL_ERROR: { exit: 70, hint: 'a bug in detbuild: please report it with the command line' },
} as const satisfies Domain<'INTERNAL'>

/** The machine, not the input: disk full, device errors. */
const IO = {
  IO_FAILED: { exit: 3, hint: 'check the disk and the process limits, then run again' },
  IO_NO_SPACE: { exit: 3, hint: 'free disk space (or quota), then run again' },
} as const satisfies Domain<'IO'>

/** `keygen`. */
const KEYGEN = {
  KEYGEN_EXISTS: { exit: 2, hint: 'pass --force to overwrite, or another --output-prefix' },
  KEYGEN_USAGE: { exit: 2, hint: 'fix the flag the message names (detbuild keygen --help)' },
} as const satisfies Domain<'KEYGEN'>

/** Output files and folders. */
const OUTPUT = {
  OUTPUT_UNWRITABLE: {
    exit: 2,
    hint: 'fix --out (or the path the message names) so it is a writable folder',
  },
} as const satisfies Domain<'OUTPUT'>

/** `policy`: the policy file, its inputs and the signing rules. */
const POLICY = {
  POLICY_FAILED: { exit: 1, hint: 'read policy.md for the rules that fail' },
  POLICY_INPUT_INVALID: { exit: 2, hint: 'run detbuild scan again to rewrite vulns.json' },
  POLICY_INVALID: { exit: 2, hint: 'fix the policy file at the path the message names (see docs/policy.md)' },
  POLICY_NOT_FOUND: { exit: 2, hint: 'pass a policy file, or the name of a shipped policy' },
  POLICY_SBOM_INVALID: { exit: 2, hint: 'run detbuild sbom again to rewrite the SBOM' },
  POLICY_SBOM_MISSING: { exit: 2, hint: 'run detbuild sbom first' },
  POLICY_SCHEMA_MISSING: { exit: 2, hint: 'reinstall detbuild: the package is incomplete' },
  POLICY_SIGNATURE_KIND_MISMATCH: { exit: 1, hint: 'sign the file the way the policy asks (keyless or key)' },
  POLICY_SIGNATURE_MISSING: { exit: 1, hint: 'run detbuild sign before policy' },
  POLICY_SIGNATURE_SUBJECT_MISMATCH: {
    exit: 1,
    hint: 'sign the file again: the signature covers other bytes',
  },
  POLICY_SIGNED_FILE_CHANGED: { exit: 1, hint: 'sign the file again: it changed after signing' },
  POLICY_SIGNED_FILE_MISSING: { exit: 1, hint: 'run the step that writes the signed file, then sign' },
  POLICY_SIGNER_NOT_ALLOWED: {
    exit: 1,
    hint: 'sign with an identity the policy allows, or change the policy',
  },
  POLICY_SIGNING_NO_TRUST: {
    exit: 1,
    hint: 'give policy the trust material (--trusted-root or --key) to check signatures',
  },
  POLICY_VEX_INVALID: { exit: 2, hint: 'fix the VEX document at the path the message names' },
} as const satisfies Domain<'POLICY'>

/** `report`: the HTML page made from the workspace. */
const REPORT = {
  REPORT_FILE_UNREADABLE: {
    exit: 2,
    hint: 'replace the file the message names with the regular file the step writes (run the step again)',
  },
  REPORT_SBOM_INVALID: { exit: 2, hint: 'run detbuild sbom again to rewrite sbom.cdx.json' },
  REPORT_WORKSPACE_EMPTY: { exit: 2, hint: 'run detbuild build, sbom, scan, policy or sign first' },
  REPORT_WORKSPACE_MISSING: { exit: 2, hint: 'run the other steps first, or pass --out' },
} as const satisfies Domain<'REPORT'>

/** `run` and the Action's pipeline. */
const RUN = {
  RUN_DEMO_UNAVAILABLE: { exit: 2, hint: 'run the demo from a source checkout (./scripts/setup.sh demo)' },
  RUN_NO_ARTIFACTS: { exit: 2, hint: 'fix "outputs" in the configuration so the build yields artifacts' },
  RUN_STEP_UNAVAILABLE: { exit: 2, hint: 'skip the step, or use a full build of detbuild' },
  RUN_USAGE: { exit: 2, hint: 'fix the options the message names (detbuild run --help)' },
} as const satisfies Domain<'RUN'>

/** `sbom --format`: the SBOM output formats (docs/formats.md). */
const FORMAT = {
  FORMAT_USAGE: { exit: 2, hint: 'fix the --format value the message names (detbuild sbom --help)' },
} as const satisfies Domain<'FORMAT'>

/** SPDX documents: written by `sbom`, read by `scan` and `policy` (docs/formats.md). */
const SPDX = {
  SPDX_INVALID: {
    exit: 2,
    hint: 'fix the SPDX document at the JSON path the message names, or write it again with detbuild sbom',
  },
  SPDX_SCHEMA_INVALID: { exit: 70, hint: 'a bug in detbuild: please report it with the lockfile' },
} as const satisfies Domain<'SPDX'>

/** `sbom`: the project read into an inventory and written as CycloneDX. */
const SBOM = {
  SBOM_INPUT_INVALID: { exit: 2, hint: 'fix the file the message names' },
  SBOM_LOCKFILE_INVALID: { exit: 2, hint: 'regenerate the lockfile with npm install --package-lock-only' },
  SBOM_LOCKFILE_MISSING: { exit: 2, hint: 'create one with npm install --package-lock-only' },
  SBOM_LOCKFILE_UNREADABLE: { exit: 2, hint: 'fix the path or permissions of the lockfile' },
  SBOM_NODE_MODULES_MISSING: { exit: 2, hint: 'run npm ci first, or use --from lockfile' },
  SBOM_PACKAGE_JSON_INVALID: { exit: 2, hint: 'fix package.json at the JSON path the message names' },
  SBOM_PACKAGE_JSON_UNREADABLE: { exit: 2, hint: 'fix the path or permissions of package.json' },
  SBOM_REGISTRY_UNAVAILABLE: {
    exit: 3,
    hint: 'check the registry and its token in .npmrc, or use the cache only (--offline) or --supplier manifest',
  },
  SBOM_SCHEMA_INVALID: { exit: 70, hint: 'a bug in detbuild: please report it with the lockfile' },
  SBOM_TREE_UNREADABLE: { exit: 2, hint: 'fix the package the message names, or run npm ci again' },
  SBOM_USAGE: { exit: 2, hint: 'fix the flag the message names (detbuild sbom --help)' },
  SBOM_WORKSPACE_UNKNOWN: { exit: 2, hint: 'name a workspace the message lists' },
  SBOM_XML_UNAVAILABLE: { exit: 2, hint: 'write JSON (--format json), or fix what the message names' },
} as const satisfies Domain<'SBOM'>

/** `scan`: OSV online and offline. */
const SCAN = {
  SCAN_EXPORT_INVALID: {
    exit: 2,
    hint: 'download the OSV export again (a ZIP or a folder of OSV JSON files)',
  },
  SCAN_EXPORT_MISSING: { exit: 2, hint: 'fix the --offline-db path' },
  SCAN_EXPORT_NO_RECORDS: {
    exit: 3,
    hint: 'use the export osv.dev publishes for that ecosystem (npm/all.zip, Go/all.zip; both unzipped in one folder for a mixed project)',
  },
  SCAN_EXPORT_STALE: { exit: 3, hint: 'download a fresh OSV export, or raise --max-db-age' },
  SCAN_EXPORT_UNREADABLE: { exit: 2, hint: 'fix the path or permissions of the OSV export' },
  SCAN_FINDINGS_AT_FAIL_ON: { exit: 1, hint: 'fix or suppress the findings at or above --fail-on' },
  SCAN_IGNORE_FILE_INVALID: {
    exit: 2,
    hint: 'fix the ignore file at the path the message names (see docs/scan.md)',
  },
  SCAN_INCOMPLETE: {
    exit: 3,
    hint: 'run again when OSV answers; the unchecked packages are listed in vulns.json',
  },
  SCAN_LOCKFILE_INVALID: {
    exit: 2,
    hint: 'regenerate the lockfile (v2 or v3) with npm install --package-lock-only',
  },
  SCAN_OSV_RECORD_INVALID: {
    exit: 3,
    alsoExit: 2,
    hint: 'run again later, or use an export whose records are valid OSV',
  },
  SCAN_OSV_REDIRECT: { exit: 3, hint: 'point --osv-url at the API itself: detbuild follows no redirect' },
  SCAN_OSV_REPLY_INVALID: { exit: 3, hint: 'run again later, or check the OSV server at --osv-url' },
  SCAN_OSV_REPLY_TOO_LARGE: { exit: 3, hint: 'raise --max-response-bytes if the server is trusted' },
  SCAN_OSV_TOO_MANY_PAGES: { exit: 3, hint: 'run again later, or check the OSV server at --osv-url' },
  SCAN_OSV_UNAVAILABLE: { exit: 3, hint: 'check the network, then run again (or scan with --offline-db)' },
  SCAN_SBOM_INVALID: {
    exit: 2,
    hint: 'run detbuild sbom again, or pass a CycloneDX 1.4–1.7 JSON, SPDX 2.3 JSON or SPDX 3.0.1 JSON-LD SBOM',
  },
  SCAN_SBOM_MISSING: { exit: 2, hint: 'run detbuild sbom first, or pass --sbom' },
  SCAN_USAGE: { exit: 2, hint: 'fix the flags the message names (detbuild scan --help)' },
} as const satisfies Domain<'SCAN'>

/** `sign`: keys, identity tokens, Sigstore services. */
const SIGN = {
  SIGN_FAILED: { exit: 3, hint: 'run again; read the cause in the message' },
  SIGN_FULCIO_FAILED: { exit: 3, hint: 'run again later, or check --fulcio-url' },
  SIGN_IDENTITY_TOKEN_INVALID: { exit: 2, hint: 'pass an OIDC identity token (a JWT)' },
  SIGN_IDENTITY_TOKEN_MISSING: {
    exit: 2,
    hint: 'pass --identity-token, set SIGSTORE_ID_TOKEN, or grant id-token: write in Actions',
  },
  SIGN_IDENTITY_TOKEN_UNAVAILABLE: { exit: 3, hint: 'run again; the token service did not answer' },
  SIGN_KEY_INVALID: { exit: 2, hint: 'pass a PKCS#8 PEM private key (detbuild keygen makes one)' },
  SIGN_KEY_PASSPHRASE_REQUIRED: {
    exit: 2,
    hint: 'set the passphrase in the variable --key-password-env names',
  },
  SIGN_KEY_PASSPHRASE_WRONG: {
    exit: 2,
    hint: 'check the passphrase in the variable --key-password-env names',
  },
  SIGN_KEY_UNSUPPORTED: { exit: 2, hint: 'use an ECDSA P-256/P-384 or Ed25519 key (detbuild keygen)' },
  SIGN_NO_ARTIFACTS: { exit: 2, hint: 'run detbuild build first, or drop --artifacts' },
  SIGN_PROVENANCE_INVALID: { exit: 2, hint: 'run detbuild build again to rewrite the provenance' },
  SIGN_PROVENANCE_MISSING: { exit: 2, hint: 'run detbuild build first' },
  SIGN_REKOR_FAILED: { exit: 3, hint: 'run again later, or check --rekor-url' },
  SIGN_TSA_FAILED: { exit: 3, hint: 'run again later, or check --tsa-url' },
  SIGN_USAGE: { exit: 2, hint: 'fix the flags the message names (detbuild sign --help)' },
} as const satisfies Domain<'SIGN'>

/** `upload`: the SBOM (and a VEX from policy exceptions) to a Dependency-Track server. */
const UPLOAD = {
  UPLOAD_API_KEY_INVALID: {
    exit: 2,
    hint: 'the API key variable holds characters an HTTP header cannot carry: copy the key again',
  },
  UPLOAD_API_KEY_MISSING: {
    exit: 2,
    hint: 'set DEPENDENCY_TRACK_API_KEY (or the variable --api-key-env names) to an API key',
  },
  UPLOAD_CONFLICT: { exit: 3, hint: 'run again: the project was created at the same time by another upload' },
  UPLOAD_FORBIDDEN: {
    exit: 2,
    hint: "give the API key's team BOM_UPLOAD (and VULNERABILITY_ANALYSIS for the VEX) and access to the project",
  },
  UPLOAD_INSECURE_URL: {
    exit: 2,
    hint: 'use https://, or pass --allow-http if the network between you and the server is trusted',
  },
  UPLOAD_PROJECT_NOT_FOUND: {
    exit: 2,
    hint: 'check the project name, version or UUID, or pass --auto-create',
  },
  UPLOAD_REDIRECT: { exit: 3, hint: 'point --url at the API server itself: detbuild follows no redirect' },
  UPLOAD_REJECTED: { exit: 2, hint: "read the server's reason in the message and fix the SBOM or the flags" },
  UPLOAD_REPLY_INVALID: {
    exit: 3,
    hint: 'check that --url is a Dependency-Track API server, then run again',
  },
  UPLOAD_SBOM_INVALID: {
    exit: 2,
    hint: 'run detbuild sbom again, or pass a CycloneDX JSON SBOM with --sbom',
  },
  UPLOAD_SBOM_MISSING: { exit: 2, hint: 'run detbuild sbom first, or pass --sbom' },
  UPLOAD_TIMEOUT: {
    exit: 3,
    hint: 'raise --wait, or check the server: it did not finish processing in time',
  },
  UPLOAD_TOO_LARGE: {
    exit: 2,
    hint: "the SBOM is above the server's 20,000,000-character limit for one upload",
  },
  UPLOAD_UNAUTHORIZED: { exit: 2, hint: 'the API key is wrong or revoked: check the variable that holds it' },
  UPLOAD_UNAVAILABLE: { exit: 3, hint: 'check the network and the server, then run again' },
  UPLOAD_URL_INVALID: {
    exit: 2,
    hint: 'pass the API server base URL, e.g. https://dtrack.example.com (no credentials, query or fragment)',
  },
  UPLOAD_USAGE: { exit: 2, hint: 'fix the flags the message names (detbuild upload --help)' },
  UPLOAD_VEX_STALE: {
    exit: 2,
    hint: 'run detbuild scan and policy again for this SBOM, or pass --no-vex',
  },
} as const satisfies Domain<'UPLOAD'>

/** Global command-line options. */
const USAGE = {
  USAGE_CONFLICTING_OPTIONS: { exit: 2, hint: 'drop one of the two options the message names' },
  USAGE_CWD_INVALID: { exit: 2, hint: 'pass an existing folder to -C/--cwd' },
  USAGE_INVALID: { exit: 2, hint: 'see detbuild <command> --help' },
  USAGE_INVALID_ARGUMENT: { exit: 2, hint: 'pass one of the values the message lists' },
  USAGE_MAX_INPUT_BYTES: { exit: 2, hint: 'pass a positive whole number of bytes' },
  USAGE_MISSING_ARGUMENT: { exit: 2, hint: 'give the argument or the option value the message names' },
  USAGE_TOO_MANY_ARGUMENTS: { exit: 2, hint: 'drop the extra arguments (detbuild <command> --help)' },
  USAGE_UNKNOWN_COMMAND: { exit: 2, hint: 'see the commands in detbuild --help' },
  USAGE_UNKNOWN_OPTION: { exit: 2, hint: 'see the options in detbuild <command> --help' },
} as const satisfies Domain<'USAGE'>

/** `verify`: a Sigstore bundle against an artifact and a trust policy. */
const VERIFY = {
  VERIFY_ARTIFACT_UNREADABLE: { exit: 2, hint: 'fix the path of the artifact' },
  VERIFY_BUNDLE_INVALID: { exit: 1, hint: 'the bundle is damaged or not a Sigstore bundle: refuse it' },
  VERIFY_BUNDLE_NOT_JSON: { exit: 2, hint: 'pass the .sigstore.json bundle that detbuild sign wrote' },
  VERIFY_CHAIN_UNTRUSTED: { exit: 1, hint: 'pass the trusted root the signer used (--trusted-root)' },
  VERIFY_DIGEST_MISMATCH: { exit: 1, hint: 'the artifact is not the one that was signed: refuse it' },
  VERIFY_IDENTITY_MISMATCH: { exit: 1, hint: 'check --certificate-identity / --certificate-oidc-issuer' },
  VERIFY_IDENTITY_REGEXP_INVALID: { exit: 2, hint: 'fix the regular expression the message names' },
  VERIFY_KEY_INVALID: { exit: 2, hint: 'pass a PEM public key (the .pub file keygen wrote)' },
  VERIFY_KEY_MISMATCH: {
    exit: 1,
    hint: 'verify with --key for key signatures, with an identity for keyless ones',
  },
  VERIFY_OFFLINE_NETWORK_NEEDED: {
    exit: 2,
    hint: 'pass --trusted-root FILE (detbuild trust export) or --offline-db, or drop --offline',
  },
  VERIFY_SIGNATURE_INVALID: { exit: 1, hint: 'the signature does not verify: refuse the artifact' },
  VERIFY_TIMESTAMP_INVALID: { exit: 1, hint: 'the timestamp does not verify: refuse the artifact' },
  VERIFY_TLOG_INVALID: { exit: 1, hint: 'the transparency-log entry does not verify: refuse the artifact' },
  VERIFY_TLOG_MISSING: {
    exit: 1,
    hint: 'sign with a transparency log; for a key signature, --insecure-ignore-tlog accepts none',
  },
  VERIFY_TRUSTED_ROOT_INVALID: { exit: 2, hint: 'pass a Sigstore trusted_root.json' },
  VERIFY_TRUSTED_ROOT_UNAVAILABLE: { exit: 3, hint: 'run again later, or pass --trusted-root' },
  VERIFY_UNSUPPORTED: {
    exit: 1,
    hint: 'the bundle uses a form detbuild does not verify (see docs/sign-verify.md)',
  },
  VERIFY_USAGE: { exit: 2, hint: 'fix the flags the message names (detbuild verify --help)' },
} as const satisfies Domain<'VERIFY'>

/** `verify --write-vsa` and `verify --vsa`: signed SLSA verification summaries (docs/evidence.md). */
const VSA = {
  VSA_BUNDLE_INVALID: {
    exit: 1,
    hint: 'the summary bundle is damaged or signs no in-toto statement: refuse it',
  },
  VSA_LEVEL_MISSING: {
    exit: 1,
    hint: 'the summary does not reach the SLSA level asked for: refuse the artifact',
  },
  VSA_NOT_JSON: { exit: 2, hint: 'pass the .sigstore.json bundle verify --write-vsa wrote' },
  VSA_POLICY_MISMATCH: {
    exit: 1,
    hint: 'the artifact was verified against another policy: verify it again with yours',
  },
  VSA_PREDICATE_INVALID: { exit: 1, hint: 'the summary lacks a required VSA field: refuse it' },
  VSA_PREDICATE_TYPE_MISMATCH: {
    exit: 1,
    hint: 'the bundle signs another kind of attestation, not a verification summary: refuse it',
  },
  VSA_RESOURCE_MISMATCH: { exit: 1, hint: 'the summary is about another resource: refuse it' },
  VSA_RESULT_FAILED: { exit: 1, hint: 'the verification the summary records failed: refuse the artifact' },
  VSA_SIGNATURE_INVALID: {
    exit: 1,
    hint: 'the summary signature does not verify (see cause): refuse it',
  },
  VSA_SIGNER_MISMATCH: {
    exit: 1,
    hint: 'the summary was signed by someone else: check --key / --certificate-identity',
  },
  VSA_STATEMENT_INVALID: { exit: 1, hint: 'the signed payload is not an in-toto Statement v1: refuse it' },
  VSA_SUBJECT_MISMATCH: { exit: 1, hint: 'the summary is about another artifact: refuse this one' },
  VSA_USAGE: { exit: 2, hint: 'fix the flags the message names (detbuild verify --help)' },
  VSA_VERIFIER_MISMATCH: {
    exit: 1,
    hint: 'the summary names another verifier: pass --vsa-verifier-id if you trust it',
  },
} as const satisfies Domain<'VSA'>

/** The workspace files' typed readers (src/workspace/): a file that is not JSON or breaks its schema. */
const WORKSPACE = {
  WORKSPACE_BUILD_INVALID: {
    exit: 2,
    hint: 'run the step that writes build.json again; the file was changed or damaged',
  },
  WORKSPACE_PROVENANCE_INVALID: {
    exit: 2,
    hint: 'run the step that writes provenance.intoto.json again; the file was changed or damaged',
  },
  WORKSPACE_REPRO_REPORT_INVALID: {
    exit: 2,
    hint: 'run the step that writes repro-report.json again; the file was changed or damaged',
  },
  WORKSPACE_VULNS_INVALID: {
    exit: 2,
    hint: 'run the step that writes vulns.json again; the file was changed or damaged',
  },
  WORKSPACE_VULNS_STATEMENT_INVALID: {
    exit: 2,
    hint: 'run the step that writes vulns.intoto.json again; the file was changed or damaged',
  },
  WORKSPACE_POLICY_RESULT_INVALID: {
    exit: 2,
    hint: 'run the step that writes policy.json again; the file was changed or damaged',
  },
  WORKSPACE_SIGNATURES_INVALID: {
    exit: 2,
    hint: 'run the step that writes signatures.json again; the file was changed or damaged',
  },
} as const satisfies Domain<'WORKSPACE'>

/** Every domain, by prefix: one object per domain (`ERROR_CODE_DOMAINS.SCAN.SCAN_OSV_UNAVAILABLE.hint`). */
export const ERROR_CODE_DOMAINS = {
  ACTION,
  BUILD,
  BUNDLE,
  CONFIG,
  ECOSYSTEM,
  EVIDENCE,
  FORMAT,
  GO,
  INPUT,
  INSPECT,
  INTERNAL,
  IO,
  KEYGEN,
  OUTPUT,
  POLICY,
  REPORT,
  RUN,
  SBOM,
  SCAN,
  SIGN,
  SPDX,
  UPLOAD,
  USAGE,
  VERIFY,
  VSA,
  WORKSPACE,
} as const

/** Every code, flat: `ERROR_CODES[err.code]` gives its exit code and a one-line hint (docs/errors.md). */
export const ERROR_CODES = {
  ...ACTION,
  ...BUILD,
  ...BUNDLE,
  ...CONFIG,
  ...ECOSYSTEM,
  ...EVIDENCE,
  ...FORMAT,
  ...GO,
  ...INPUT,
  ...INSPECT,
  ...INTERNAL,
  ...IO,
  ...KEYGEN,
  ...OUTPUT,
  ...POLICY,
  ...REPORT,
  ...RUN,
  ...SBOM,
  ...SCAN,
  ...SIGN,
  ...SPDX,
  ...UPLOAD,
  ...USAGE,
  ...VERIFY,
  ...VSA,
  ...WORKSPACE,
} as const

/** A stable `DOMAIN_REASON` code: every error and reason code detbuild reports. */
export type ErrorCode = keyof typeof ERROR_CODES
