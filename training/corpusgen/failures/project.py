"""Docs builds, secrets/permissions, pipeline configuration, flaky tests and unexplained exits."""
from __future__ import annotations

from ..case import Case, Project, failure
from ..vocab import Vocab


@failure("sphinx_warnings_as_errors", "docs", "sphinx")
def sphinx(v: Vocab, p: Project) -> Case:
    doc = f"docs/{v.pick(['api', 'guide', 'reference', 'howto'])}/{v.word()}.rst"
    ln = v.line()
    warn = v.pick([f"WARNING: undefined label: '{v.word()}-{v.verb()}'", f"WARNING: toctree contains reference to nonexisting document '{v.word()}'",
                   "WARNING: document isn't included in any toctree", f"WARNING: Unknown directive type: \"{v.pick(['mermaid', 'tabs', 'autoclass_'])}\"",
                   "WARNING: Title underline too short."])
    lines = [f"Running Sphinx v{v.int(5, 7)}.{v.int(0, 4)}.{v.int(0, 3)}", "loading pickled environment... done",
             f"building [html]: targets for {v.int(10, 90)} source files that are out of date", "reading sources... [100%] index",
             f"{p.root}/{doc}:{ln}: {warn}", "", "Warning, treated as error:", f"{p.root}/{doc}:{ln}:{warn.split(':', 1)[1].strip()}"]
    return Case(
        step="Build docs", command="sphinx-build -W -b html docs docs/_build/html", lines=lines, key_ids=[doc],
        causes=[f"The Sphinx build runs with -W and {doc} line {ln} emits a warning ({warn.split(': ', 1)[1]}), which fails the docs job.",
                f"{doc}:{ln} produces a Sphinx warning, and -W turns warnings into errors."],
        fixes=[f"Fix the reference or markup at {doc}:{ln} and run `make -C docs html SPHINXOPTS=-W` locally.",
               f"Fix the markup or reference at {doc}:{ln} and rebuild the docs with -W locally."],
        runbook=[f"Fix {doc}:{ln} and run `tox -e docs`, which reproduces CI exactly (-W --keep-going)."],
        summary=f"Sphinx warning in {doc}", setup="python")


@failure("mkdocs_strict_warnings", "docs", "mkdocs")
def mkdocs(v: Vocab, p: Project) -> Case:
    page = f"{v.pick(['guide', 'ops', 'api'])}/{v.word()}.md"
    target = f"{v.word()}-{v.verb()}.md"
    lines = ["INFO    -  Cleaning site directory", f"INFO    -  Building documentation to directory: {p.root}/site",
             f"WARNING -  Doc file '{page}' contains a link '{target}', but the target '{page.rsplit('/', 1)[0]}/{target}' is not found among documentation files.",
             "", "Aborted with 1 warnings in strict mode!"]
    return Case(
        step="Build docs", command="mkdocs build --strict", lines=lines, key_ids=[page, target],
        causes=[f"mkdocs --strict aborts because {page} links to {target}, which does not exist.",
                f"{page} links to {target}, which is missing, so mkdocs --strict aborts."],
        fixes=[f"Fix or remove the link to {target} in docs/{page} (or add the missing page) and rerun `mkdocs build --strict`.",
               f"Correct the link to {target} in {page} (or add the page) and run `mkdocs build --strict`."],
        runbook=["Renamed pages need an entry in mkdocs.yml `redirects` so old links keep working."],
        summary=f"mkdocs: broken link {target}", setup="python")


@failure("markdown_link_check", "docs", "docs")
def link_check(v: Vocab, p: Project) -> Case:
    f = v.pick(["README.md", "CONTRIBUTING.md", f"docs/{v.word()}.md"])
    url = f"https://{v.pick(['docs', 'wiki', 'confluence'])}.{p.org}.com/{v.word()}/{v.verb()}"
    code = v.pick([404, 410, 500])
    lines = [f"FILE: {f}", f"  [✓] https://github.com/{p.org}/{p.repo}", f"  [✖] {url} → Status: {code}",
             f"  [✓] ./docs/{v.word()}.md", "", f"  {v.int(5, 40)} links checked.", "", f"  ERROR: 1 dead links found!", f"  [✖] {url} → Status: {code}"]
    return Case(
        step="Check links", command=f"markdown-link-check {f}", lines=lines, key_ids=[url],
        causes=[f"The link checker found a dead link in {f}: {url} returns {code}."],
        fixes=[f"Update or remove the link to {url} in {f}; add flaky external hosts to .markdown-link-check.json ignorePatterns."],
        runbook=[f"Replace {url} in {f} with its developer-portal link; the old wiki was retired."],
        summary=f"Dead link in {f}", setup="node")


@failure("missing_secret_input", "auth", "github-actions", systems=("github",))
def missing_secret(v: Vocab, p: Project) -> Case:
    action, inp, secret = v.pick([("aws-actions/configure-aws-credentials@v4", "role-to-assume", "AWS_DEPLOY_ROLE_ARN"),
                                  ("docker/login-action@v3", "password", "DOCKERHUB_TOKEN"),
                                  ("codecov/codecov-action@v4", "token", "CODECOV_TOKEN"),
                                  ("slackapi/slack-github-action@v1", "slack-bot-token", "SLACK_BOT_TOKEN"),
                                  ("actions/setup-node@v4", "token", "NPM_TOKEN")])
    lines = ["  with:", f"    {inp}: ", f"##[error]Input required and not supplied: {inp}" if p.system == "github" else f"Error: Input required and not supplied: {inp}"]
    if v.chance(0.4):
        lines.insert(0, "Secrets are not passed to workflows triggered by a pull request from a fork.")
    return Case(
        step=f"Run {action}", command=action, lines=lines, key_ids=[inp],
        causes=[f"{action} got an empty '{inp}': the secret {secret} is not available to this run (missing, misnamed, or a fork PR)."],
        fixes=[f"Define the {secret} secret for the repository/environment and pass it as `{inp}: ${{{{ secrets.{secret} }}}}`; fork PRs do not receive secrets."],
        runbook=[f"Request {secret} through the secrets-manager form; it is scoped to the `production` environment, so the job needs `environment: production`."],
        summary=f"Secret for {inp} not supplied", setup="none")


@failure("github_token_permissions", "auth", "github-actions", systems=("github",))
def gh_token(v: Vocab, p: Project) -> Case:
    op, perm = v.pick([("create a comment on the pull request", "pull-requests: write"), ("push a tag", "contents: write"),
                       ("publish the package", "packages: write"), ("create a release", "contents: write"),
                       ("request an OIDC token", "id-token: write")])
    lines = [f"Attempting to {op}...",
             "RequestError [HttpError]: Resource not accessible by integration" if "OIDC" not in op else
             "Error: Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable",
             "  status: 403," if "OIDC" not in op else "", f"  url: 'https://api.github.com/repos/{p.org}/{p.repo}/{v.pick(['issues/12/comments', 'releases', 'git/refs'])}',"]
    key = "Resource not accessible by integration" if "OIDC" not in op else "ACTIONS_ID_TOKEN_REQUEST_URL"
    return Case(
        step=f"{op.capitalize()}", command="actions/github-script@v7", lines=[l for l in lines if l], key_ids=[key],
        causes=[f"The job's GITHUB_TOKEN lacks the {perm} permission needed to {op} ({key})."],
        fixes=[f"Add `permissions: {perm}` to the workflow or job (repository default is read-only)."],
        runbook=[f"Add `permissions: {perm}` to this job only (least privilege); the org default GITHUB_TOKEN is read-only."],
        summary=f"GITHUB_TOKEN missing {perm}", setup="none")


@failure("npm_publish_auth", "auth", "npm")
def npm_publish(v: Vocab, p: Project) -> Case:
    pkg = f"@{p.org}/{v.word()}-{v.pick(['sdk', 'ui', 'core'])}"
    code = v.pick(["ENEEDAUTH", "E401", "E403"])
    lines = {"ENEEDAUTH": ["npm ERR! code ENEEDAUTH", "npm ERR! need auth This command requires you to be logged in to https://registry.npmjs.org/",
                           "npm ERR! need auth You need to authorize this machine using `npm adduser`"],
             "E401": ["npm ERR! code E401", "npm ERR! 401 Unauthorized - PUT https://registry.npmjs.org/" + pkg.replace("/", "%2f") + " - unauthenticated: User cannot be authenticated with the token provided."],
             "E403": ["npm ERR! code E403", f"npm ERR! 403 403 Forbidden - PUT https://registry.npmjs.org/{pkg.replace('/', '%2f')} - You do not have permission to publish \"{pkg}\". Are you logged in as the correct user?"]}[code]
    return Case(
        step="Publish", command="npm publish --access public", lines=lines, key_ids=[code],
        causes=[f"npm publish of {pkg} fails with {code}: the job has no valid npm token with publish rights."],
        fixes=["Set registry-url in actions/setup-node and pass an automation token as NODE_AUTH_TOKEN from secrets; make sure it can publish the scope."],
        runbook=["Releases publish via the `release` workflow with the NPM_PUBLISH_TOKEN environment secret; only tags trigger it."],
        summary=f"npm publish {code}", setup="node")


@failure("secret_scan_leak", "auth", "gitleaks")
def gitleaks(v: Vocab, p: Project) -> Case:
    kind = v.pick(["github", "aws", "slack", "npm"])
    token = v.fake_token(kind)
    f = v.pick([".env.example", "config/settings.py", "scripts/deploy.sh", "src/config.ts", "docker-compose.yml"])
    rule = {"github": "github-pat", "aws": "aws-access-token", "slack": "slack-bot-token", "npm": "npm-access-token"}[kind]
    ln = v.line()
    lines = ["    ○", "    │╲", "    │ ○", "    ○ ░", "    ░    gitleaks", "",
             f"Finding:     {v.pick(['TOKEN', 'export GH_TOKEN', 'api_key'])}={token}", f"Secret:      {token}",
             f"RuleID:      {rule}", "Entropy:     4.8", f"File:        {f}", f"Line:        {ln}", f"Commit:      {v.hex(40)}",
             f"Author:      {v.word()}", "", f"{v.int(10, 30)}:{v.int(10, 59)}AM INF {v.int(10, 400)} commits scanned.",
             f"{v.int(10, 30)}:{v.int(10, 59)}AM WRN leaks found: 1"]
    return Case(
        step="Secret scan", command="gitleaks detect --redact=false", lines=lines, key_ids=[rule, f],
        causes=[f"gitleaks found a committed credential ({rule}) in {f} at line {ln}."],
        fixes=[f"Revoke and rotate the leaked credential now, remove it from {f} (load it from a secret store), and purge it from history if the repo is public."],
        runbook=[f"Rotate the {rule} credential immediately, open a security incident in #sec-oncall, and remove it from {f}; never just add a .gitleaksignore entry."],
        summary=f"gitleaks: {rule} in {f}", setup="none")


@failure("script_permission_denied", "auth", "shell")
def script_perm(v: Vocab, p: Project) -> Case:
    script = v.pick(["./gradlew", "./mvnw", "./scripts/build.sh", "./scripts/ci/test.sh", "./bin/deploy"])
    lines = [f"/bin/bash: line 1: {script}: Permission denied" if v.chance(0.6) else f"/home/runner/work/_temp/{v.hex(8)}.sh: line 1: {script}: Permission denied"]
    return Case(
        step="Build", command=f"{script} build", lines=lines, key_ids=[script], exit_code=126,
        causes=[f"{script} is not executable in the repository (missing the +x bit), so the shell refuses to run it.",
                f"Running {script} fails with Permission denied: the file is not executable."],
        fixes=[f"Commit the executable bit: `git update-index --chmod=+x {script.lstrip('./')}` (or call it via `bash {script}`).",
               f"Make {script} executable in git (`git update-index --chmod=+x`) or run it through bash."],
        runbook=["Scripts created on Windows lose +x; .gitattributes marks *.sh eol=lf, but the mode still needs git update-index --chmod=+x."],
        summary=f"{script}: Permission denied", setup="none")


@failure("wrong_working_directory", "configuration", "shell")
def wrong_dir(v: Vocab, p: Project) -> Case:
    d = v.pick(["frontend", "web", "services/api", "app", "packages/client", "backend"])
    tool, line = v.pick([("cd", f"/bin/bash: line 1: cd: {d}: No such file or directory"),
                         ("ws", f"Error: An error occurred trying to start process '/usr/bin/bash' with working directory '{p.root}/{d}'. No such file or directory"),
                         ("make", f"make: *** No rule to make target '{v.pick(['build', 'test', 'ci'])}'.  Stop.")])
    key = d if tool != "make" else "No rule to make target"
    lines = [line] if tool != "make" else [f"make: Entering directory '{p.root}'", line]
    return Case(
        step="Build", command=f"cd {d} && make build" if tool == "cd" else "make build", lines=lines, key_ids=[key],
        causes=[f"The step runs in the wrong directory: {d} does not exist at {p.root} (renamed or moved)." if tool != "make" else
                f"make runs in {p.root}, where the Makefile has no such target (No rule to make target): the step's working-directory is wrong."],
        fixes=[f"Point working-directory (or the cd) at the folder that exists now (check `ls` of the checkout), or restore {d}."],
        runbook=[f"Update the package path for {d} in .github/ci-matrix.yml; per-package jobs read their working directory from it."],
        summary=f"Wrong working directory ({d})", setup="none")


@failure("missing_env_var", "configuration", "python")
def missing_env(v: Vocab, p: Project) -> Case:
    var = v.env_var()
    style = v.pick(["python", "node", "shell", "pydantic"])
    lines = {"python": ["Traceback (most recent call last):", f"  File \"{p.root}/app/config.py\", line {v.int(5, 40)}, in <module>",
                        f"    {var.lower()} = os.environ[\"{var}\"]", f"KeyError: '{var}'"],
             "node": [f"{p.root}/src/config.js:{v.int(3, 30)}", f"    throw new Error(`Missing required environment variable {var}`);", "    ^",
                      f"Error: Missing required environment variable {var}"],
             "shell": [f"./scripts/deploy.sh: line {v.int(3, 30)}: {var}: parameter null or not set"],
             "pydantic": ["pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings", var.lower(),
                          "  Field required [type=missing, input_value={}, input_type=dict]"]}[style]
    key = var if style != "pydantic" else var.lower()
    return Case(
        step=v.pick(["Test", "Deploy", "Run migrations"]), command=v.pick(["pytest", "npm start", "./scripts/deploy.sh"]), lines=lines, key_ids=[key],
        causes=[f"The required environment variable {var} is not set in the CI job, so the app fails at startup."
                + (f" (settings field {key} is missing)" if key != var else "")],
        fixes=[f"Set {var} in the job's env (from a secret or variable) or give it a test default in the CI config."],
        runbook=[f"Test jobs read {var} from `.env.ci`; add new settings there and to the deploy environment's variables."],
        summary=f"Missing env var {var}", setup="none")


@failure("invalid_ci_yaml", "configuration", "ci-config", systems=("github", "gitlab"))
def bad_yaml(v: Vocab, p: Project) -> Case:
    ln = v.int(8, 120)
    if p.system == "gitlab":
        job = f"{v.pick(['build', 'test', 'deploy'])}-{v.word()}"
        lines = [v.pick(["Found errors in your .gitlab-ci.yml:", "Invalid configuration in .gitlab-ci.yml:"]),
                 v.pick([f"jobs:{job} config contains unknown keys: script_before", f"jobs:{job}:rules:rule if invalid expression syntax",
                         f"(<unknown>): mapping values are not allowed in this context at line {ln} column {v.col()}"])]
        f = ".gitlab-ci.yml"
    else:
        f = f".github/workflows/{v.pick(['ci', 'build', 'release', 'test'])}.yml"
        lines = [f"Invalid workflow file: {f}#L{ln}",
                 v.pick([f"The workflow is not valid. {f} (Line: {ln}, Col: {v.col()}): Unexpected value 'run-on'",
                         f"You have an error in your yaml syntax on line {ln}",
                         f"The workflow is not valid. {f} (Line: {ln}, Col: {v.col()}): Unrecognized named-value: 'secret'. Located at position 1 within expression: secret.TOKEN"])]
    return Case(
        step="Set up job", command="(workflow parse)", lines=lines, key_ids=[f],
        causes=[f"The pipeline definition {f} is invalid ({lines[-1].split(': ', 1)[-1][:70]}), so no job could start."],
        fixes=[f"Fix {f} at the reported line (check indentation and key names) and validate it with actionlint / the GitLab CI lint before pushing."],
        runbook=[f"Fix {f} and run `pre-commit run actionlint` (or `glab ci lint`) before pushing; pipeline YAML changes need a #ci-owners review."],
        summary=f"Invalid CI config {f}", setup="none")


@failure("action_version_not_found", "configuration", "github-actions", systems=("github",))
def action_version(v: Vocab, p: Project) -> Case:
    action = v.pick(["actions/setup-node", "actions/checkout", "actions/cache", "docker/build-push-action", "actions/setup-python"])
    ver = v.pick(["v9", "v5.9", "main2", "v3.99"])
    lines = ["Prepare all required actions", "Getting action download info",
             f"Error: Unable to resolve action `{action}@{ver}`, unable to find version `{ver}`"]
    return Case(
        step="Set up job", command=f"uses: {action}@{ver}", lines=lines, key_ids=[f"{action}@{ver}"],
        causes=[f"The workflow references {action}@{ver}, a version that does not exist."],
        fixes=[f"Use a published tag of {action} (e.g. the latest major) or pin a commit SHA."],
        runbook=[f"Pin {action} to the commit SHA listed in .github/actions-lock.yml (with the version as a comment) and let Dependabot bump it."],
        summary=f"Unknown action version {action}@{ver}", setup="none")


@failure("command_not_found", "configuration", "shell")
def cmd_not_found(v: Vocab, p: Project) -> Case:
    cmd = v.pick(["pnpm", "yarn", "poetry", "jq", "helm", "make", "protoc", "terraform", "kustomize", "tox"])
    lines = [v.pick([f"/bin/bash: line 1: {cmd}: command not found", f"/usr/bin/bash: {cmd}: command not found",
                     f"sh: 1: {cmd}: not found"])]
    return Case(
        step="Build", command=f"{cmd} {v.pick(['install', 'build', '--version', 'run ci'])}", lines=lines, key_ids=[cmd], exit_code=127,
        causes=[f"{cmd} is not installed on the runner image, so the step exits 127 (command not found).",
                f"The shell cannot find {cmd}: it is not installed in this job's image (exit 127)."],
        fixes=[f"Install or set up {cmd} in an earlier step (a setup action or package install) before using it.",
               f"Add a setup step that installs {cmd} (or use an image that has it) before this step."],
        runbook=[f"Tools come from .tool-versions via `asdf install`; add {cmd} there instead of ad-hoc installs."],
        summary=f"{cmd}: command not found", setup="none")


@failure("flaky_test_retry", "flaky", "pytest")
def flaky_pytest(v: Vocab, p: Project) -> Case:
    tfile, test = v.py_test()
    err = v.pick(["ConnectionResetError: [Errno 104] Connection reset by peer", "TimeoutError: timed out waiting for message",
                  f"AssertionError: assert {v.int(1, 9)} == {v.int(10, 20)}", "sqlite3.OperationalError: database is locked"])
    lines = [f"{tfile}::{test} RERUN", f"{tfile}::{test} RERUN", f"{tfile}::{test} FAILED", "",
             "=================================== FAILURES ===================================", f"{'_' * 15} {test} {'_' * 15}",
             f"E   {err}", "=========================== short test summary info ============================",
             f"FAILED {tfile}::{test} - {err}", f"==== 1 failed, {v.int(100, 900)} passed, 2 rerun in {v.secs()}s ===="]
    if v.chance(0.5):
        lines = [f"{tfile}::{test} PASSED (previous run on main)", f"Attempt 1 of 3 failed; retrying in 30s"] + lines
    return Case(
        step="Test", command="pytest --reruns 2", lines=lines, key_ids=[test],
        causes=[f"{tfile}::{test} is flaky: it failed after reruns with {err.split(':')[0]} and passes on other runs."],
        fixes=[f"Quarantine {test} (mark it flaky / skip with an issue link) and fix its shared-state or timing dependency; do not just raise reruns."],
        runbook=["Add the test to tests/quarantine.txt with a ticket; the nightly job reruns quarantined tests 50 times to confirm a fix."],
        summary=f"Flaky test {test}", setup="python")


@failure("flaky_jest_retry", "flaky", "jest")
def flaky_jest(v: Vocab, p: Project) -> Case:
    path = f"src/__tests__/{v.word()}{v.pick(['.integration', '.e2e', ''])}.test.{v.pick(['ts', 'js', 'tsx'])}"
    suite = v.camel()
    test = f"{v.verb()}s {v.word()} {v.pick(['over websocket', 'after reconnect', 'with real timers', 'in parallel', 'from the queue', 'on retry'])}"
    attempts = v.int(2, 4)
    err = v.pick([f"thrown: \"Exceeded timeout of {v.pick([5000, 10000, 15000])} ms for a test.",
                  "Error: socket hang up", "Error: read ECONNRESET", f"expect(received).toHaveLength(expected)\n\n    Expected length: {v.int(2, 9)}\n    Received length: {v.int(0, 1)}",
                  "TypeError: Cannot read properties of null (reading 'close')"])
    lines = [f" FAIL  {path}", f"  ● {suite} › {test}", "", f"    {err}", ""]
    for n in range(2, attempts + 1):
        lines += [f"LOGGING RETRY ATTEMPTS: {suite} › {test}", f"    RETRY {n - 1}", "", f"    {err.splitlines()[0]}", ""]
    if v.chance(0.5):
        lines.insert(0, f" PASS  {path.replace(path.split('/')[-1], v.word() + '.test.ts')} (run #{v.int(2, 9)} passed this test yesterday)")
    lines += [f"  ✕ {test} ({v.int(20, 15000)} ms)", f"Test Suites: 1 failed, {v.int(10, 200)} passed, {v.int(11, 201)} total",
              f"Tests:       1 failed, {v.int(20, 900)} passed", f"jest.retryTimes({attempts - 1}) exhausted for \"{test}\""]
    return Case(
        step=v.pick(["Test", "Integration tests", "E2E tests"]), command=v.pick(["npm run test:integration", "npx jest --ci", "yarn test --ci"]),
        lines=lines, key_ids=[test],
        causes=[f"The jest test \"{test}\" ({path}) is flaky: it failed on every retry (jest.retryTimes) here but passes intermittently elsewhere.",
                f"\"{test}\" is a flaky test: it fails with {err.splitlines()[0][:40]} even after {attempts - 1} retries."],
        fixes=["Remove the timing dependency (fake timers, await the event explicitly, close handles in afterEach) and quarantine the test until it is stable.",
               f"Quarantine \"{test}\" and fix its shared state or timing; retries only hide it."],
        runbook=[f"Add \"{test}\" to the quarantine list (test.flaky) so it stops blocking merges, and switch it to fake timers."],
        summary=f"Flaky jest test: {test}", setup="node")


@failure("unknown_exit_code", "unknown", "shell")
def unknown_exit(v: Vocab, p: Project) -> Case:
    script = v.pick(["./scripts/ci.sh", "make ci", "./run-tests.sh", "python tools/check.py"])
    code = v.pick([1, 2, 255])
    lines = [f"+ {script}", f"Running {v.pick(['checks', 'pipeline', 'suite'])}...", f"Done {v.word()}.",
             f"##[error]Process completed with exit code {code}." if p.system == "github" else f"ERROR: Job failed: exit code {code}"]
    return Case(
        step="Run CI script", command=script, lines=lines, key_ids=[f"exit code {code}"], exit_code=code,
        causes=[f"{script} exited with exit code {code} without printing an error, so the log does not show the cause."],
        fixes=[f"Rerun {script} with tracing (`set -x`, verbose flags) or locally to see which command returns {code}; make the script print errors."],
        runbook=["All CI scripts must start with `set -euo pipefail` and log each stage; rerun with CI_DEBUG=1 for verbose output."],
        summary=f"{script} exit {code} without error output", setup="none")
