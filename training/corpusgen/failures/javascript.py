"""npm/yarn/pnpm, TypeScript, jest/mocha and eslint failures."""
from __future__ import annotations

from ..case import Case, Project, failure
from ..vocab import Vocab


def _npm_log_tail(v: Vocab) -> list[str]:
    stamp = f"2024-{v.int(1, 12):02d}-{v.int(1, 28):02d}T{v.int(0, 23):02d}_{v.int(0, 59):02d}_{v.int(0, 59):02d}_{v.int(100, 999)}Z"
    return ["", "npm ERR! A complete log of this run can be found in:",
            f"npm ERR!     /home/runner/.npm/_logs/{stamp}-debug-0.log"]


@failure("npm_missing_package_json", "configuration", "npm")
def npm_missing_package_json(v: Vocab, p: Project) -> Case:
    sub = v.pick(["", "", "frontend/", "web/", "packages/app/"])
    path = f"{p.root}/package.json"
    cmd = v.pick(["npm ci", "npm install", "npm run build", "npm test"])
    lines = ["npm ERR! code ENOENT", "npm ERR! syscall open", f"npm ERR! path {path}",
             f"npm ERR! errno -2",
             f"npm ERR! enoent ENOENT: no such file or directory, open '{path}'",
             "npm ERR! enoent This is related to npm not being able to find a file.", "npm ERR! enoent "] + _npm_log_tail(v)
    where = f" (the project lives in {sub.rstrip('/')})" if sub else ""
    return Case(
        step=f"Run {cmd}", command=cmd, lines=lines, key_ids=["package.json"],
        causes=[f"npm could not find package.json in the working directory{where}.",
                f"`{cmd}` ran in {p.root}, which has no package.json (ENOENT){where}."],
        fixes=["Run npm from the folder that contains package.json (set working-directory) or commit the missing package.json."]
        + ([f"Set `working-directory: {sub.rstrip('/')}` (or `cd {sub.rstrip('/')}`) for the npm steps."] if sub else
           ["Commit package.json at the repository root, or point the step's working-directory at the folder that has it."]),
        runbook=["Monorepo jobs must use the `defaults.run.working-directory` from .github/ci-matrix.yml; do not cd in individual steps."],
        summary="npm ENOENT: package.json not found", setup="node")


@failure("npm_eresolve", "dependency", "npm")
def npm_eresolve(v: Vocab, p: Project) -> Case:
    peer = v.pick(["react", "typescript", "eslint", "webpack", "@angular/core"])
    dep = v.pick(["react-redux", "@typescript-eslint/eslint-plugin", "eslint-config-airbnb", "webpack-cli",
                  "@testing-library/react", "react-router-dom", "@storybook/react", "ts-loader"])
    have, want = f"{v.int(15, 18)}.{v.int(0, 3)}.{v.int(0, 9)}", f"^{v.int(5, 19)}.0.0"
    lines = ["npm ERR! code ERESOLVE", "npm ERR! ERESOLVE unable to resolve dependency tree", "npm ERR! ",
             f"npm ERR! While resolving: {p.repo}@{v.version(2)}", f"npm ERR! Found: {peer}@{have}",
             f"npm ERR! node_modules/{peer}", f"npm ERR!   {peer}@\"^{have}\" from the root project", "npm ERR! ",
             "npm ERR! Could not resolve dependency:", f"npm ERR! peer {peer}@\"{want}\" from {dep}@{v.version(8)}",
             f"npm ERR! node_modules/{dep}", f"npm ERR!   {dep}@\"*\" from the root project", "npm ERR! ",
             "npm ERR! Fix the upstream dependency conflict, or retry",
             "npm ERR! this command with --force or --legacy-peer-deps"] + _npm_log_tail(v)
    return Case(
        step="Install dependencies", command="npm ci", lines=lines, key_ids=[dep, peer],
        causes=[f"npm cannot resolve the dependency tree: {dep} requires peer {peer}@{want} but the project has {peer}@{have} (ERESOLVE).",
                f"A peer dependency conflict between {dep} and {peer}@{have} makes npm install fail with ERESOLVE."],
        fixes=[f"Upgrade {dep} to a version whose peer range accepts {peer}@{have} (or align {peer}), then regenerate package-lock.json.",
               f"Align the versions of {dep} and {peer} in package.json and commit the new lockfile; use --legacy-peer-deps only as a stopgap."],
        runbook=[f"Bump {dep} with `npx npm-check-updates -u {dep}` and let Renovate's grouped PR update {peer}; we do not allow --legacy-peer-deps in CI."],
        summary=f"npm ERESOLVE: {dep} peer {peer} conflict", setup="node")


@failure("npm_e404", "dependency", "npm")
def npm_e404(v: Vocab, p: Project) -> Case:
    scoped = v.chance(0.5)
    pkg = f"@{p.org}/{v.word()}-{v.pick(['ui', 'client', 'config', 'utils'])}" if scoped else v.pick(["reqeust", "lodahs", "expresss", "react-dom-router", "jest-enviroment-jsdom"])
    lines = ["npm ERR! code E404", f"npm ERR! 404 Not Found - GET https://registry.npmjs.org/{pkg.replace('/', '%2f')} - Not found",
             "npm ERR! 404 ", f"npm ERR! 404  '{pkg}@{v.semver_range()}' is not in this registry.",
             "npm ERR! 404 ", "npm ERR! 404 Note that you can also install from a",
             "npm ERR! 404 tarball, folder, http url, or git url."] + _npm_log_tail(v)
    if scoped:
        cause = f"{pkg} is a private scoped package but npm is asking the public registry, which returns 404."
        fix = f"Add an .npmrc mapping @{p.org} to the private registry and an auth token (NODE_AUTH_TOKEN) to the job."
    else:
        cause = f"The package {pkg} does not exist on the npm registry (likely a typo in package.json)."
        fix = f"Fix the name {pkg} in package.json to the real package and regenerate the lockfile."
    return Case(step="Install dependencies", command="npm ci", lines=lines, key_ids=[pkg],
                causes=[cause, f"npm gets 404 Not Found for {pkg}, so the install fails."], fixes=[fix],
                runbook=[f"Private @{p.org} packages come from https://npm.{p.org}.internal; use actions/setup-node with registry-url and the NPM_READ_TOKEN secret."],
                summary=f"npm E404 for {pkg}", setup="node")


@failure("npm_lock_out_of_sync", "dependency", "npm")
def npm_lock_out_of_sync(v: Vocab, p: Project) -> Case:
    pkg = v.npm_package()
    ver = v.version(8)
    lines = ["npm ERR! code EUSAGE", "npm ERR! ",
             "npm ERR! `npm ci` can only install packages when your package.json and package-lock.json or npm-shrinkwrap.json are in sync. Please update your lock file with `npm install` before continuing.",
             "npm ERR! ", f"npm ERR! Invalid: lock file's {pkg}@{v.version(8)} does not satisfy {pkg}@{ver}",
             f"npm ERR! Missing: {v.npm_package()}@{v.version(5)} from lock file", "npm ERR! ",
             "npm ERR! Clean install a project"] + _npm_log_tail(v)
    return Case(
        step="Install dependencies", command="npm ci", lines=lines, key_ids=["package-lock.json", pkg],
        causes=[f"package-lock.json is out of sync with package.json ({pkg}@{ver} is not in the lock file), so npm ci refuses to install.",
                f"npm ci failed because package-lock.json does not satisfy {pkg}@{ver} from package.json."],
        fixes=["Run npm install locally, commit the updated package-lock.json together with the package.json change.",
               f"Regenerate package-lock.json with the same npm major version CI uses and commit it alongside the {pkg} bump."],
        runbook=["Run `npm run lock:refresh` (pins npm 10 through corepack) and commit package-lock.json with the package.json change."],
        summary="npm ci: package-lock.json out of sync", setup="node")


@failure("yarn_frozen_lockfile", "dependency", "yarn")
def yarn_frozen_lockfile(v: Vocab, p: Project) -> Case:
    if v.chance(0.5):
        lines = [f"yarn install v1.22.{v.int(10, 22)}", "[1/4] Resolving packages...",
                 "error Your lockfile needs to be updated, but yarn was run with `--frozen-lockfile`.",
                 "info Visit https://yarnpkg.com/en/docs/cli/install for documentation about this command."]
        cmd, lock, key = "yarn install --frozen-lockfile", "yarn.lock", "--frozen-lockfile"
    elif v.chance(0.5):
        lines = [f"➤ YN0000: ┌ Resolution step", f"➤ YN0028: │ The lockfile would have been modified by this install, which is explicitly forbidden.",
                 f"➤ YN0000: └ Completed in {v.secs()}s", "➤ YN0000: Failed with errors in 0s 412ms"]
        cmd, lock, key = "yarn install --immutable", "yarn.lock", "YN0028"
    else:
        lines = [" ERR_PNPM_OUTDATED_LOCKFILE  Cannot install with \"frozen-lockfile\" because pnpm-lock.yaml is not up to date with package.json",
                 "", f"Note that in CI environments this setting is true by default. If you still need to run install in such cases, use \"pnpm install --no-frozen-lockfile\""]
        cmd, lock, key = "pnpm install --frozen-lockfile", "pnpm-lock.yaml", "pnpm-lock.yaml"
    return Case(
        step="Install dependencies", command=cmd, lines=lines, key_ids=[key],
        causes=[f"{lock} does not match package.json, and the install runs with a frozen lockfile ({key}), so it fails.",
                f"The committed {lock} is outdated relative to package.json, so the {key} install refuses to modify it."],
        fixes=[f"Run the install locally to update {lock} and commit it with the package.json change.",
               f"Regenerate {lock} with the same package manager version as CI and commit it; keep the frozen lockfile in CI."],
        runbook=[f"Run `corepack enable` so the packageManager version from package.json is used, regenerate {lock}, and commit it."],
        summary=f"Frozen lockfile: {lock} outdated", setup="node")


@failure("tsc_type_error", "compilation", "typescript")
def tsc_type_error(v: Vocab, p: Project) -> Case:
    path = v.js_path(v.pick(["ts", "tsx"]))
    ln, col = v.line(), v.col()
    code, msg = v.pick([
        ("TS2345", f"Argument of type 'string' is not assignable to parameter of type 'number'."),
        ("TS2339", f"Property '{v.word()}Id' does not exist on type '{v.camel()}'."),
        ("TS2322", "Type 'undefined' is not assignable to type 'string'."),
        ("TS2307", f"Cannot find module './{v.word()}' or its corresponding type declarations."),
        ("TS7006", f"Parameter '{v.word()}' implicitly has an 'any' type."),
    ])
    fmt = v.chance(0.5)
    line = f"{path}({ln},{col}): error {code}: {msg}" if fmt else f"{path}:{ln}:{col} - error {code}: {msg}"
    lines = [f"> {p.repo}@{v.version(2)} build", "> tsc -p tsconfig.json" + v.pick(["", " && vite build"]), "", line]
    if not fmt:
        lines += ["", f"{ln} {v.pick(['  return total(', '  const x = ', '  setValue('])}{v.word()}{v.pick(['.id);', ');', ' as any;'])}", "        ~~~~~~", "", f"Found 1 error in {path}:{ln}"]
    return Case(
        step="Build", command="npm run build", lines=lines, key_ids=[path, code],
        causes=[f"TypeScript compilation fails with {code} in {path} at line {ln}: {msg}",
                f"tsc reports error {code} in {path}:{ln}, so the build stops."],
        fixes=[f"Fix the type error at {path}:{ln} ({code}) and run `npx tsc --noEmit` locally before pushing.",
               f"Correct the types in {path} line {ln}; do not silence {code} with `any` or ts-ignore."],
        runbook=[f"Fix {code} at {path}:{ln} and run `npm run typecheck` (tsc --noEmit -p tsconfig.build.json), as the CI typecheck stage does."],
        summary=f"tsc {code} in {path}", setup="node")


@failure("jest_assertion", "test", "jest")
def jest_assertion(v: Vocab, p: Project) -> Case:
    path = v.js_path(v.pick(["ts", "tsx", "js"])).replace("src/", "src/__tests__/").rsplit(".", 1)
    path = f"{path[0]}.test.{path[1]}"
    suite, test = v.camel(), f"{v.verb()}s {v.word()} {v.pick(['correctly', 'when empty', 'with discount', 'on error'])}"
    ln = v.line()
    exp, got = v.int(1, 500), v.int(1, 500)
    lines = [f" PASS  src/__tests__/{v.word()}.test.ts", f" FAIL  {path}",
             f"  ● {suite} › {test}", "", "    expect(received).toBe(expected) // Object.is equality", "",
             f"    Expected: {exp}", f"    Received: {got}", "",
             f"      {ln - 1} |     const result = {v.verb()}{v.word().capitalize()}(input);",
             f"    > {ln} |     expect(result).toBe({exp});", "         |                    ^",
             f"      {ln + 1} |   }});", "", f"      at Object.<anonymous> ({path}:{ln}:{v.col()})", "",
             f"Test Suites: 1 failed, {v.int(5, 80)} passed, {v.int(6, 81)} total",
             f"Tests:       1 failed, {v.int(40, 700)} passed, {v.int(41, 701)} total",
             f"Snapshots:   0 total", f"Time:        {v.secs()} s", "Ran all test suites."]
    return Case(
        step="Test", command=v.pick(["npm test -- --ci", "npx jest --ci", "yarn test --ci"]), lines=lines, key_ids=[path, test],
        causes=[f"The jest test \"{suite} › {test}\" in {path} fails: expected {exp} but received {got}.",
                f"A failing assertion at {path}:{ln} (\"{test}\") breaks the test job."],
        fixes=[f"Run `npx jest {path}` locally and fix the code or the expectation at line {ln}.",
               f"Check the recent change to the code under test and update {path} only if the new value {got} is intended."],
        runbook=["Reproduce with `npm test -- --runInBand {0}`; if it only fails in CI, compare TZ and locale (CI runs with TZ=UTC).".format(path)],
        summary=f"jest failure: {suite} › {test}", setup="node")


@failure("mocha_failure", "test", "mocha")
def mocha_failure(v: Vocab, p: Project) -> Case:
    path = f"test/{v.word()}.spec.js"
    test = f"should {v.verb()} the {v.word()}"
    suite = v.camel()
    timeout = v.chance(0.4)
    lines = ["", f"  {suite}", f"    ✔ should {v.verb()} {v.word()}s ({v.ms()}ms)", f"    1) {test}", "",
             f"  {v.int(20, 300)} passing ({v.int(2, 40)}s)", "  1 failing", "", f"  1) {suite}", f"       {test}:"]
    if timeout:
        ms = v.pick([2000, 5000, 10000])
        lines += [f"     Error: Timeout of {ms}ms exceeded. For async tests and hooks, ensure \"done()\" is called; if returning a Promise, ensure it resolves. ({p.root}/{path})",
                  f"      at listOnTimeout (node:internal/timers:{v.int(500, 600)}:17)"]
        cause = f"The mocha test \"{test}\" in {path} exceeded the {ms}ms timeout: an async call never resolved."
        fix = f"Make the test in {path} await or return its promise (or call done()), and stub the slow dependency instead of raising the timeout."
    else:
        lines += ["", f"      AssertionError: expected {v.int(1, 99)} to equal {v.int(100, 200)}",
                  "      + expected - actual", "", f"      at Context.<anonymous> ({path}:{v.line()}:{v.col()})"]
        cause = f"The mocha test \"{test}\" in {path} fails with an AssertionError."
        fix = f"Run `npx mocha {path}` locally and fix the code or the assertion that changed."
    return Case(step="Test", command="npm test", lines=lines, key_ids=[path, test],
                causes=[cause, f"\"{test}\" fails in {path}."],
                fixes=[fix, f"Reproduce with `npx mocha {path} --grep \"{test}\"` and fix the failing behaviour."],
                runbook=[f"Run `npm run test:unit -- --grep \"{test}\"` (integration specs need `docker compose up -d db`) and fix the failing behaviour."],
                summary=f"mocha: {test}", setup="node")


@failure("eslint_errors", "lint", "eslint")
def eslint_errors(v: Vocab, p: Project) -> Case:
    path = v.js_path()
    messages = {"no-unused-vars": f"'{v.word()}' is assigned a value but never used", "@typescript-eslint/no-explicit-any": "Unexpected any. Specify a different type",
                "react-hooks/exhaustive-deps": f"React Hook useEffect has a missing dependency: '{v.word()}'. Either include it or remove the dependency array",
                "eqeqeq": "Expected '===' and instead saw '=='", "no-console": "Unexpected console statement", "prefer-const": f"'{v.word()}' is never reassigned. Use 'const' instead",
                "import/order": "`react` import should occur before import of `./styles`",
                "@typescript-eslint/no-floating-promises": "Promises must be awaited, end with a call to .catch, or end with a call to .then with a rejection handler"}
    rules = v.sample(sorted(messages), v.int(1, 3))
    lines = [f"> {p.repo}@{v.version(2)} lint", "> eslint . --max-warnings=0", "", f"{p.root}/{path}"]
    for r in rules:
        lines.append(f"  {v.line()}:{v.col()}  error  {messages[r]}  {r}")
    lines += ["", f"✖ {len(rules)} problem{'s' if len(rules) > 1 else ''} ({len(rules)} error{'s' if len(rules) > 1 else ''}, 0 warnings)"]
    return Case(
        step="Lint", command="npm run lint", lines=lines, key_ids=[path, rules[0]],
        causes=[f"ESLint reports {len(rules)} error(s) in {path}, including {rules[0]}.",
                f"The lint step fails on {path}: rule {rules[0]} is violated."],
        fixes=[f"Fix the reported lines in {path} (try `npx eslint --fix {path}`) and commit.",
               f"Resolve the {rules[0]} violation in {path}; run `npm run lint` locally before pushing."],
        runbook=[f"Run `npx eslint --fix {path}` and enable the husky pre-commit hook (`npx husky install`) so staged files are linted."],
        summary=f"ESLint {rules[0]} in {path}", setup="node")


@failure("node_heap_oom", "resources", "node")
def node_heap_oom(v: Vocab, p: Project) -> Case:
    mb = v.pick([2048, 4096, 1536])
    lines = [f"<--- Last few GCs --->", "",
             f"[{v.int(1800, 2400)}:0x{v.hex(12)}]   {v.int(90000, 180000)} ms: Mark-Compact {mb - v.int(10, 40)}.9 ({mb + 30}.4) -> {mb - v.int(40, 80)}.1 ({mb + 40}.2) MB, {v.int(900, 2000)}.5 / 0.0 ms  (average mu = 0.{v.int(100, 300)}) allocation failure",
             "", "<--- JS stacktrace --->", "",
             "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
             " 1: 0xb7b3e0 node::Abort() [node]", " 2: 0xa8c8aa  [node]",
             f"Aborted (core dumped)"]
    return Case(
        step="Build", command=v.pick(["npm run build", "yarn build", "npx next build"]), lines=lines,
        key_ids=["JavaScript heap out of memory"], exit_code=134,
        causes=[f"The Node.js build ran out of heap (JavaScript heap out of memory) at about {mb} MB.",
                "The build process hit V8's heap limit: FATAL ERROR ... JavaScript heap out of memory."],
        fixes=[f"Raise the heap with NODE_OPTIONS=--max-old-space-size={mb * 2} (and a runner with enough RAM), or cut bundle size/source maps.",
               "Set NODE_OPTIONS=--max-old-space-size=6144 for the build step and disable production source maps if they are not needed."],
        runbook=["Builds over 4 GB heap must run on the `linux-x64-large` runner label; set NODE_OPTIONS=--max-old-space-size=7168 there."],
        summary="Node build: JavaScript heap out of memory", setup="node")
