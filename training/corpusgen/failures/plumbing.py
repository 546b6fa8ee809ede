"""Everyday pipeline plumbing mistakes: missing scripts, empty artifact paths, no tests collected,
conflict markers, syntax errors, module-format clashes, Makefile tabs, deploy permissions."""
from __future__ import annotations

from ..case import Case, Project, failure
from ..vocab import Vocab


@failure("npm_missing_script", "configuration", "npm")
def npm_missing_script(v: Vocab, p: Project) -> Case:
    script = v.pick(["build", "test:ci", "lint", "typecheck", "e2e", "build:prod", "test:unit"])
    have = v.sample(["start", "dev", "test", "lint:fix", "format", "preview", "storybook"], 3)
    lines = [f"npm ERR! Missing script: \"{script}\"", "npm ERR! ", "npm ERR! To see a list of scripts, run:", "npm ERR!   npm run"]
    if v.chance(0.4):
        lines.insert(1, f"npm ERR! Did you mean one of these?\nnpm ERR!     npm run {have[0]}\nnpm ERR!     npm run {have[1]}")
    return Case(
        step=v.pick(["Build", "Test", "Lint"]), command=f"npm run {script}", lines=lines, key_ids=[script],
        causes=[f"package.json has no \"{script}\" script, so `npm run {script}` fails (Missing script).",
                f"The workflow calls `npm run {script}`, but that script is not defined in package.json."],
        fixes=[f"Add a \"{script}\" entry to the scripts in package.json, or change the workflow to call the script that exists.",
               f"Define \"{script}\" in package.json scripts (or fix the script name in the CI step)."],
        runbook=[f"CI calls the standard script names from the frontend template; add \"{script}\" to package.json rather than editing the shared workflow."],
        summary=f"npm: missing script {script}", setup="node")


@failure("artifact_no_files_found", "configuration", "github-actions", systems=("github",))
def artifact_missing(v: Vocab, p: Project) -> Case:
    path, name, setup = v.pick([("dist/", "dist", "node"), ("build/libs/*.jar", "app-jar", "gradle"), ("target/*.jar", "app-jar", "maven"),
                                ("coverage/lcov.info", "coverage", "node"), ("reports/junit.xml", "test-results", "python"),
                                ("app/build/outputs/apk/release/*.apk", "apk", "gradle"), ("htmlcov/", "coverage-html", "python")])
    lines = ["  with:", f"    name: {name}", f"    path: {path}", "    if-no-files-found: error",
             f"##[error]No files were found with the provided path: {path}. No artifacts will be uploaded."]
    return Case(
        step="Upload artifact", command="actions/upload-artifact@v4", lines=lines, key_ids=[path],
        causes=[f"upload-artifact found no files at {path}: the build wrote its output somewhere else (or did not produce it)."],
        fixes=[f"Point `path:` at where the build actually writes its output (check with `ls` in the previous step), or fix the build so it produces {path}."],
        runbook=["Artifacts paths are relative to the workspace root, not the step's working-directory; prefix the package folder in monorepos."],
        summary=f"No files found for artifact {name}", setup=setup)


@failure("pytest_no_tests_collected", "configuration", "pytest")
def no_tests(v: Vocab, p: Project) -> Case:
    target = v.pick(["tests/", "test/unit", "src/tests", "tests/integration"])
    lines = ["============================= test session starts ==============================",
             f"platform linux -- Python 3.{v.int(10, 12)}.{v.int(0, 9)}, pytest-8.{v.int(0, 3)}.{v.int(0, 3)}, pluggy-1.5.0",
             f"rootdir: {p.root}", "configfile: pyproject.toml", "collected 0 items", "",
             f"============================ no tests ran in 0.0{v.int(1, 9)}s ============================="]
    if v.chance(0.5):
        lines.insert(4, f"ERROR: file or directory not found: {target}")
        lines[-1] = f"============================ no tests ran in 0.0{v.int(1, 9)}s ============================="
        key = target
        cause = f"pytest was pointed at {target}, which does not exist, so no tests ran and pytest exited non-zero."
    else:
        key = "collected 0 items"
        cause = "pytest collected 0 items (exit code 5): the test files do not match the configured patterns or the path is wrong."
    return Case(
        step="Test", command=f"pytest {target}", lines=lines, key_ids=[key], exit_code=4 if key == target else 5, causes=[cause],
        fixes=["Point pytest at the real test folder (testpaths in pyproject.toml) and make sure files are named test_*.py."],
        runbook=["The repo layout puts tests under tests/; set `testpaths = [\"tests\"]` in pyproject.toml instead of passing paths in CI."],
        summary="pytest ran no tests", setup="python")


@failure("merge_conflict_markers", "compilation", "git")
def conflict_markers(v: Vocab, p: Project) -> Case:
    kind = v.pick(["python", "ts", "go", "json"])
    ln = v.line()
    command = {"python": "python -m compileall -q .", "ts": "npm run build", "go": "go build ./...", "json": "npm ci"}[kind]
    if kind == "python":
        f = v.py_module_path()
        lines = ["Traceback (most recent call last):", f"  File \"{p.root}/{f}\", line {ln}", "    <<<<<<< HEAD", "    ^^", "SyntaxError: invalid syntax"]
    elif kind == "ts":
        f = v.js_path("ts")
        lines = [f"{f}({ln},1): error TS1185: Merge conflict marker encountered."]
    elif kind == "go":
        f = f"{v.go_pkg_dir()}/{v.word()}.go"
        lines = [f"# github.com/{p.org}/{p.repo}/{f.rsplit('/', 1)[0]}", f"{f}:{ln}:1: syntax error: unexpected <<, expected }}"]
    else:
        f = v.pick(["package.json", "tsconfig.json", "config/settings.json"])
        lines = [f"npm ERR! JSON.parse Unexpected token \"<\" (0x3C) in JSON at position {v.int(100, 900)} while parsing near '...\"\\n<<<<<<< HEAD\\n  \"ve...'",
                 f"npm ERR! JSON.parse Failed to parse JSON data from {f}"]
    return Case(
        step="Build", command=command, lines=lines, key_ids=[f],
        causes=[f"{f} still contains unresolved merge conflict markers (<<<<<<< HEAD), so it no longer parses."],
        fixes=[f"Resolve the conflict in {f} (remove the <<<<<<< / ======= / >>>>>>> markers and keep the right code) and push again."],
        runbook=["Enable the `check-merge-conflict` pre-commit hook so conflict markers never reach CI."],
        summary=f"Conflict markers in {f}", setup="none")


@failure("python_syntax_error", "compilation", "python")
def py_syntax(v: Vocab, p: Project) -> Case:
    f = v.py_module_path()
    ln = v.line()
    err, code = v.pick([("SyntaxError: invalid syntax", f"    if {v.word()} = None:"),
                        ("IndentationError: unexpected indent", f"        return {v.word()}"),
                        ("SyntaxError: '(' was never closed", f"    total = sum({v.word()}"),
                        (f"SyntaxError: invalid syntax. Perhaps you forgot a comma?", f"    items = [{v.word()} {v.word()}]")])
    lines = ["ImportError while loading conftest '" + f"{p.root}/tests/conftest.py'.", f"tests/conftest.py:{v.int(1, 20)}: in <module>",
             f"    from {f[:-3].replace('/', '.')} import {v.camel()}", f"E     File \"{p.root}/{f}\", line {ln}", f"E       {code.strip()}",
             "E                  ^", f"E   {err}"]
    return Case(
        step="Test", command="pytest -q", lines=lines, key_ids=[f, f"line {ln}"],
        causes=[f"{f} has a {err.split(':')[0]} at line {ln}, so importing it from conftest.py fails before any test runs."],
        fixes=[f"Fix the syntax at {f} line {ln} and run `python -m compileall {f}` (or the pre-commit hooks) before pushing."],
        runbook=["Ruff's syntax check runs in pre-commit; install the hooks so broken files never reach CI."],
        summary=f"{err.split(':')[0]} in {f}", setup="python")


@failure("node_esm_require_error", "dependency", "node")
def esm(v: Vocab, p: Project) -> Case:
    pkg = v.pick(["node-fetch", "chalk", "nanoid", "got", "p-limit", "execa", "uuid"])
    ver = f"{v.int(3, 6)}.{v.int(0, 9)}.{v.int(0, 9)}"
    f = v.pick(["scripts/build.js", "src/server.js", "jest.config.js", "tools/release.js"])
    lines = [f"{p.root}/{f}:{v.int(1, 30)}", f"const {pkg.replace('-', '_')} = require('{pkg}');", "                ^", "",
             f"Error [ERR_REQUIRE_ESM]: require() of ES Module {p.root}/node_modules/{pkg}/index.js from {p.root}/{f} not supported.",
             f"Instead change the require of index.js in {p.root}/{f} to a dynamic import() which is available in all CommonJS modules.",
             f"    at Object.<anonymous> ({p.root}/{f}:{v.int(1, 30)}:{v.int(10, 30)}) {{", "  code: 'ERR_REQUIRE_ESM'", "}", "",
             f"Node.js v{v.int(18, 20)}.{v.int(0, 19)}.{v.int(0, 9)}"]
    return Case(
        step="Build", command=f"node {f}", lines=lines, key_ids=["ERR_REQUIRE_ESM", pkg],
        causes=[f"{pkg} is ESM-only in the installed major version, and {f} loads it with require() (ERR_REQUIRE_ESM)."],
        fixes=[f"Pin {pkg} to its last CommonJS major in package.json, or convert {f} to ESM / use a dynamic import()."],
        runbook=[f"Renovate's major bump of {pkg} broke CommonJS consumers; pin it back in package.json until the service moves to ESM."],
        summary=f"ERR_REQUIRE_ESM for {pkg} {ver}", setup="node")


@failure("makefile_missing_separator", "configuration", "make")
def make_separator(v: Vocab, p: Project) -> Case:
    f = v.pick(["Makefile", "build/Makefile", "mk/ci.mk"])
    ln = v.int(5, 120)
    lines = [f"{f}:{ln}: *** missing separator.  Stop."]
    return Case(
        step="Build", command="make ci", lines=lines, key_ids=[f"{f}:{ln}"],
        causes=[f"{f}:{ln} has a recipe line indented with spaces instead of a tab (missing separator)."],
        fixes=[f"Indent the recipe at {f}:{ln} with a tab character (check your editor's settings for Makefiles)."],
        runbook=[".editorconfig sets `indent_style = tab` for Makefiles; make sure your editor honours it."],
        summary=f"make: missing separator in {f}", setup="none")


@failure("cloud_deploy_access_denied", "auth", "aws")
def s3_denied(v: Vocab, p: Project) -> Case:
    bucket = f"{p.org}-{p.repo}-{v.pick(['assets', 'artifacts', 'static', 'releases'])}"
    role = f"arn:aws:iam::{v.int(100000000000, 999999999999)}:role/{v.pick(['github-deploy', 'ci-deployer', 'gitlab-ci'])}"
    user = f"{role.replace(':role/', ':assumed-role/')}/{v.pick(['GitHubActions', 'gitlab-ci-session', 'ci'])}"
    action = v.pick(["s3:PutObject", "s3:ListBucket", "s3:DeleteObject"])
    op = {"s3:PutObject": "PutObject", "s3:ListBucket": "ListObjectsV2", "s3:DeleteObject": "DeleteObject"}[action]
    resource = f"arn:aws:s3:::{bucket}" + ("" if action == "s3:ListBucket" else "/index.html")
    lines = [f"{'upload' if op == 'PutObject' else 'fatal error' if op == 'ListObjectsV2' else 'delete'} failed: An error occurred (AccessDenied) when calling the {op} operation: "
             f"User: {user} is not authorized to perform: {action} on resource: \"{resource}\" because no identity-based policy allows the {action} action"]
    return Case(
        step="Deploy", command=f"aws s3 sync dist/ s3://{bucket} --delete", lines=lines, key_ids=[action, bucket],
        causes=[f"The CI deploy role is not allowed to perform {action} on {bucket} (AccessDenied)."],
        fixes=[f"Add {action} on {resource.rsplit('/', 1)[0] if '/' in resource[13:] else resource}{'/*' if action != 's3:ListBucket' else ''} to the deploy role's IAM policy (or use the role that has it)."],
        runbook=["Deploy permissions live in infra/iam/ci-roles.tf; open a PR there and ask #infra for review instead of using personal keys."],
        summary=f"AccessDenied for {action} on {bucket}", setup="node")
