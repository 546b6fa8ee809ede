"""pip/poetry, pytest/unittest and Python lint/type-check failures."""
from __future__ import annotations

from ..case import Case, Project, failure
from ..vocab import Vocab

PY = ["3.9", "3.10", "3.11", "3.12"]


@failure("pip_no_matching_distribution", "dependency", "pip")
def pip_no_matching(v: Vocab, p: Project) -> Case:
    pkg = v.py_package()
    ver = f"{v.int(20, 99)}.{v.int(0, 9)}.{v.int(0, 9)}" if v.chance(0.5) else v.version(4)
    pyv = v.pick(PY)
    avail = ", ".join(v.version(3) for _ in range(v.int(3, 6)))
    lines = [f"Collecting {pkg}=={ver} (from -r requirements.txt (line {v.int(2, 40)}))",
             f"ERROR: Could not find a version that satisfies the requirement {pkg}=={ver} (from versions: {avail})",
             f"ERROR: No matching distribution found for {pkg}=={ver}"]
    return Case(
        step="Install dependencies", command="pip install -r requirements.txt", lines=lines, key_ids=[f"{pkg}=={ver}"],
        causes=[f"pip cannot find {pkg}=={ver}: that version does not exist on the index for Python {pyv} on this platform.",
                f"requirements.txt pins {pkg}=={ver}, which has no matching distribution on PyPI for this interpreter."],
        fixes=[f"Pin {pkg} to a version that exists for Python {pyv} (see the versions pip lists) and update the lock/requirements.",
               f"Correct the {pkg} pin in requirements.txt, or change the job's Python version if {ver} needs a newer interpreter."],
        runbook=[f"Internal wheels live on https://pypi.{p.org}.internal/simple; add `--extra-index-url` from the PIP_EXTRA_INDEX_URL secret."],
        summary=f"pip: no matching distribution for {pkg}=={ver}", setup="python")


@failure("pip_resolution_impossible", "dependency", "pip")
def pip_conflict(v: Vocab, p: Project) -> Case:
    a, b = v.sample(["pydantic", "urllib3", "protobuf", "numpy", "sqlalchemy", "typing-extensions", "packaging"], 2)
    dep = v.py_package()
    va, vb = v.version(3), v.version(3)
    lines = [f"INFO: pip is looking at multiple versions of {dep} to determine which version is compatible with other requirements. This could take a while.",
             f"ERROR: Cannot install -r requirements.txt (line {v.int(2, 30)}) and {a}=={va} because these package versions have conflicting dependencies.",
             "", "The conflict is caused by:", f"    The user requested {a}=={va}", f"    {dep} {v.version(4)} depends on {a}<{vb}", "",
             "To fix this you could try to:", "1. loosen the range of package versions you've specified",
             "2. remove package versions to allow pip attempt to solve the dependency conflict", "",
             "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency-conflicts"]
    return Case(
        step="Install dependencies", command="pip install -r requirements.txt", lines=lines, key_ids=[a, dep, "ResolutionImpossible"],
        causes=[f"pip hits ResolutionImpossible: requirements pin {a}=={va} but {dep} requires {a}<{vb}.",
                f"Conflicting pins: {dep} needs {a}<{vb} while requirements.txt asks for {a}=={va} (ResolutionImpossible)."],
        fixes=[f"Relax the {a} pin or upgrade {dep} to a release compatible with {a}=={va}, then recompile the requirements lock.",
               f"Make {a} and {dep} compatible (bump {dep} or pin {a} below {vb}) and regenerate requirements with pip-compile."],
        runbook=["Edit requirements.in, never requirements.txt, and run `make lock` (pip-compile --generate-hashes)."],
        summary=f"pip ResolutionImpossible: {a} vs {dep}", setup="python")


@failure("python_module_not_found", "dependency", "python")
def module_not_found(v: Vocab, p: Project) -> Case:
    mod = v.pick(["yaml", "dateutil", "requests", "boto3", "pydantic_settings", "freezegun", "responses", "jwt", "dotenv"])
    dist = {"yaml": "PyYAML", "dateutil": "python-dateutil", "jwt": "PyJWT", "dotenv": "python-dotenv",
            "pydantic_settings": "pydantic-settings"}.get(mod, mod)
    tfile, _ = v.py_test()
    src = v.py_module_path()
    lines = ["============================= test session starts ==============================",
             f"platform linux -- Python {v.pick(PY)}.{v.int(0, 9)}, pytest-{v.int(7, 8)}.{v.int(0, 4)}.{v.int(0, 3)}, pluggy-1.{v.int(0, 5)}.0",
             f"rootdir: {p.root}", f"collected {v.int(10, 400)} items / 1 error", "",
             "==================================== ERRORS ====================================",
             f"_{'_' * 10} ERROR collecting {tfile} {'_' * 10}",
             f"ImportError while importing test module '{p.root}/{tfile}'.", "Traceback:",
             f"{tfile}:{v.int(1, 12)}: in <module>", f"    from {src[:-3].replace('/', '.')} import {v.camel()}",
             f"{src}:{v.int(1, 20)}: in <module>", f"    import {mod}", f"E   ModuleNotFoundError: No module named '{mod}'",
             "=========================== short test summary info ============================",
             f"ERROR {tfile}", "!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!"]
    return Case(
        step="Test", command="pytest -q", lines=lines, key_ids=[mod, src],
        causes=[f"Test collection fails because {src} imports '{mod}', which is not installed (ModuleNotFoundError).",
                f"The module {mod} (imported by {src}) is missing from the test environment, so {tfile} cannot be imported."],
        fixes=[f"Add {dist} to the project's dependencies (requirements.txt or pyproject.toml) so CI installs it.",
               f"Declare {dist} as a dependency (not just installed locally) and reinstall; pytest will then collect {tfile}."],
        runbook=["Add runtime deps to pyproject [project.dependencies] and test-only deps to the `test` extra; CI installs `.[test]`."],
        summary=f"ModuleNotFoundError: {mod}", setup="python")


@failure("pytest_assertion", "test", "pytest")
def pytest_assertion(v: Vocab, p: Project) -> Case:
    tfile, test = v.py_test()
    ln = v.line()
    exp, got = v.pick([(f"{v.int(1, 999)}.{v.int(0, 99):02d}", f"{v.int(1, 999)}.{v.int(0, 99):02d}"),
                       ("'paid'", "'pending'"), ("200", str(v.pick([400, 404, 500, 422]))), ("3", "2")])
    lines = ["============================= test session starts ==============================",
             f"platform linux -- Python {v.pick(PY)}.{v.int(0, 9)}, pytest-8.{v.int(0, 3)}.{v.int(0, 3)}, pluggy-1.5.0",
             f"rootdir: {p.root}", "configfile: pyproject.toml", f"plugins: cov-{v.int(4, 5)}.{v.int(0, 9)}.0, xdist-3.{v.int(3, 6)}.0",
             f"collected {v.int(40, 900)} items", "",
             f"tests/test_{v.word()}.py ..........{'.' * v.int(0, 20)}                 [ {v.int(5, 40)}%]",
             f"{tfile} ...F..                                          [ {v.int(41, 90)}%]", "",
             "=================================== FAILURES ===================================",
             f"{'_' * 15} {test} {'_' * 15}", "",
             f"    def {test}():", f"        {v.word()} = make_{v.word()}({v.pick(['amount=10', 'limit=5', 'items=[]'])})",
             f">       assert {v.snake()}({v.word()}) == {exp}", f"E       assert {got} == {exp}",
             f"E        +  where {got} = {v.snake()}(<{v.camel()} id={v.int(1, 99)}>)", "",
             f"{tfile}:{ln}: AssertionError",
             "=========================== short test summary info ============================",
             f"FAILED {tfile}::{test} - assert {got} == {exp}",
             f"========================= 1 failed, {v.int(40, 899)} passed in {v.secs()}s ========================="]
    return Case(
        step="Test", command=v.pick(["pytest -q", "python -m pytest --cov", "tox -e py311", "pytest -n auto"]), lines=lines,
        key_ids=[f"{tfile}::{test}"],
        causes=[f"The test {tfile}::{test} fails: the assertion at line {ln} expected {exp} but got {got}.",
                f"{tfile}::{test} asserts {exp} but the code now returns {got}."],
        fixes=[f"Run `pytest {tfile}::{test}` locally and fix the code (or the expectation if {got} is now correct).",
               f"Reproduce with `pytest {tfile} -k {test}`, find the change that altered the result, and fix it."],
        runbook=["Reproduce inside the CI image: `make test-docker ARGS='{0}::{1}'`; fixtures need the seeded test DB.".format(tfile, test)],
        summary=f"pytest failure: {test}", setup="python")


@failure("unittest_failure", "test", "python")
def unittest_failure(v: Vocab, p: Project) -> Case:
    cls = v.camel() + "Test"
    meth = f"test_{v.snake()}"
    mod = f"tests.test_{v.word()}"
    ln = v.line()
    err = v.pick(["AssertionError: False is not true", f"AssertionError: {v.int(1, 50)} != {v.int(51, 99)}",
                  f"KeyError: '{v.word()}_id'", "TypeError: unsupported operand type(s) for +: 'NoneType' and 'int'"])
    lines = [f"test_{v.snake()} ({mod}.{cls}) ... ok", f"{meth} ({mod}.{cls}) ... FAIL" if err.startswith("Assert") else f"{meth} ({mod}.{cls}) ... ERROR",
             "", "=" * 70, f"{'FAIL' if err.startswith('Assert') else 'ERROR'}: {meth} ({mod}.{cls})", "-" * 70,
             "Traceback (most recent call last):", f"  File \"{p.root}/{mod.replace('.', '/')}.py\", line {ln}, in {meth}",
             f"    self.assert{v.pick(['Equal', 'True'])}({v.snake()}())", err, "", "-" * 70,
             f"Ran {v.int(20, 400)} tests in {v.secs()}s", "", f"FAILED ({'failures' if err.startswith('Assert') else 'errors'}=1)"]
    return Case(
        step="Test", command=v.pick(["python -m unittest discover -s tests", "python manage.py test"]), lines=lines, key_ids=[meth, cls],
        causes=[f"The unittest {cls}.{meth} in {mod} fails at line {ln} with {err.split(':')[0]}.",
                f"{mod}.{cls}.{meth} fails at line {ln} ({err.split(':')[0]})."],
        fixes=[f"Run `python -m unittest {mod}.{cls}.{meth}` locally and fix the code path it exercises.",
               f"Reproduce with `python -m unittest {mod}.{cls}.{meth}` and fix the code or the assertion."],
        runbook=[f"Reproduce with `python manage.py test {mod} --settings=config.settings.ci` (CI's SQLite settings) and fix {meth}."],
        summary=f"unittest {cls}.{meth} failing", setup="python")


@failure("poetry_lock_mismatch", "dependency", "poetry")
def poetry_lock(v: Vocab, p: Project) -> Case:
    lines = ["Installing dependencies from lock file", "",
             v.pick(["pyproject.toml changed significantly since poetry.lock was last generated. Run `poetry lock [--no-update]` to fix the lock file.",
                     "Error: poetry.lock is not consistent with pyproject.toml. Run `poetry lock [--no-update]` to fix it."])]
    return Case(
        step="Install dependencies", command="poetry install --no-interaction --no-root", lines=lines, key_ids=["poetry.lock"],
        causes=["poetry.lock is out of date with pyproject.toml, so poetry install refuses to install from it.",
                "The dependency change in pyproject.toml was committed without regenerating poetry.lock."],
        fixes=["Run `poetry lock --no-update` locally and commit the updated poetry.lock with the pyproject.toml change.",
               "Regenerate poetry.lock with the same Poetry version as CI (`poetry lock`) and commit it."],
        runbook=["Use `pipx run poetry==1.8.3 lock --no-update` so the lock format matches CI's pinned Poetry."],
        summary="poetry.lock out of sync with pyproject.toml", setup="python")


@failure("python_lint", "lint", "python")
def python_lint(v: Vocab, p: Project) -> Case:
    path = v.py_module_path()
    tool = v.pick(["ruff", "flake8"])
    codes = v.sample([("F401", f"`{v.word()}` imported but unused"), ("E501", "line too long (131 > 120)"),
                      ("F841", f"local variable '{v.word()}' is assigned to but never used"), ("E711", "comparison to None should be 'if cond is None:'"),
                      ("W291", "trailing whitespace"), ("B006", "Do not use mutable data structures for argument defaults")], v.int(1, 3))
    if tool == "ruff":
        lines = [f"{path}:{v.line()}:{v.col()}: {c} {m}" for c, m in codes] + [f"Found {len(codes)} error{'s' if len(codes) > 1 else ''}.",
                                                                              "[*] 1 fixable with the `--fix` option."]
        cmd = "ruff check ."
    else:
        lines = [f"./{path}:{v.line()}:{v.col()}: {c} {m}" for c, m in codes]
        cmd = "flake8 ."
    return Case(
        step="Lint", command=cmd, lines=lines, key_ids=[path, codes[0][0]],
        causes=[f"{tool} reports {codes[0][0]} ({codes[0][1]}) in {path}, failing the lint step.",
                f"The lint job fails on {path}: {tool} rule {codes[0][0]}."],
        fixes=[f"Fix the reported lines in {path} (`{cmd} --fix` where supported) and commit.",
               f"Resolve {codes[0][0]} in {path}; run `{cmd}` locally or via pre-commit before pushing."],
        runbook=[f"Run `pre-commit run ruff --all-files` (same ruff version as CI) and commit the fix for {codes[0][0]} in {path}."],
        summary=f"{tool} {codes[0][0]} in {path}", setup="python")


@failure("python_format_check", "lint", "python")
def python_format(v: Vocab, p: Project) -> Case:
    files = [v.py_module_path() for _ in range(v.int(1, 3))]
    tool = v.pick(["black", "ruff format"])
    if tool == "black":
        lines = [f"would reformat {p.root}/{f}" for f in files] + ["", "Oh no! 💥 💔 💥",
                 f"{len(files)} file{'s' if len(files) > 1 else ''} would be reformatted, {v.int(20, 300)} files would be left unchanged."]
        cmd = "black --check ."
    else:
        lines = [f"Would reformat: {f}" for f in files] + [f"{len(files)} file{'s' if len(files) > 1 else ''} would be reformatted, {v.int(20, 300)} files already formatted"]
        cmd = "ruff format --check ."
    return Case(
        step="Check formatting", command=cmd, lines=lines, key_ids=[files[0]],
        causes=[f"{tool} --check fails because {files[0]} is not formatted.",
                f"The formatting check reports that {files[0]} would be reformatted by {tool}."],
        fixes=[f"Run `{cmd.replace(' --check', '')}` locally and commit the reformatted {files[0]}."],
        runbook=[f"Run `pre-commit run --all-files` to reformat {files[0]} with the pinned formatter version, then commit."],
        summary=f"{tool} check: {files[0]} needs formatting", setup="python")


@failure("mypy_errors", "lint", "python")
def mypy_errors(v: Vocab, p: Project) -> Case:
    path = v.py_module_path()
    ln = v.line()
    code, msg = v.pick([("arg-type", f"Argument 1 to \"{v.snake()}\" has incompatible type \"str\"; expected \"int\""),
                        ("attr-defined", f"\"{v.camel()}\" has no attribute \"{v.word()}_id\""),
                        ("return-value", "Incompatible return value type (got \"Optional[str]\", expected \"str\")"),
                        ("union-attr", f"Item \"None\" of \"Optional[{v.camel()}]\" has no attribute \"{v.word()}\"")])
    lines = [f"{path}:{ln}: error: {msg}  [{code}]", f"Found 1 error in 1 file (checked {v.int(20, 300)} source files)"]
    return Case(
        step="Type check", command="mypy .", lines=lines, key_ids=[path, code],
        causes=[f"mypy reports a [{code}] error in {path} at line {ln}.", f"Type checking fails: {path}:{ln} has {code}: {msg}"],
        fixes=[f"Fix the types at {path}:{ln} (guard the Optional or correct the argument) and rerun `mypy .`.",
               f"Correct the types at {path}:{ln} ([{code}]) and rerun `mypy .`."],
        runbook=[f"Fix the [{code}] error in {path} (no `# type: ignore` without an issue link) and run `make typecheck`."],
        summary=f"mypy {code} in {path}", setup="python")


@failure("pip_wheel_build_failed", "dependency", "pip")
def wheel_build(v: Vocab, p: Project) -> Case:
    pkg, header, sysdep = v.pick([("psycopg2", "pg_config executable not found.", "libpq-dev"),
                                  ("mysqlclient", "mysql_config: not found", "default-libmysqlclient-dev"),
                                  ("lxml", "fatal error: libxml/xmlversion.h: No such file or directory", "libxml2-dev libxslt1-dev"),
                                  ("cryptography", "error: can't find Rust compiler", "rustc cargo"),
                                  ("pycairo", "Package cairo was not found in the pkg-config search path.", "libcairo2-dev")])
    ver = v.version(3)
    lines = [f"Collecting {pkg}=={ver}", f"  Downloading {pkg}-{ver}.tar.gz ({v.int(200, 3000)} kB)",
             "  Preparing metadata (setup.py) ... done", f"Building wheels for collected packages: {pkg}",
             f"  Building wheel for {pkg} (setup.py) ... error", "  error: subprocess-exited-with-error", "  ",
             f"  × python setup.py bdist_wheel did not run successfully.", "  │ exit code: 1", f"  ╰─> [{v.int(20, 80)} lines of output]",
             f"      {header}", "      [end of output]", "",
             f"  ERROR: Failed building wheel for {pkg}", f"ERROR: Could not build wheels for {pkg}, which is required to install pyproject.toml-based projects"]
    return Case(
        step="Install dependencies", command="pip install -r requirements.txt", lines=lines, key_ids=[pkg],
        causes=[f"pip has to build {pkg}=={ver} from source and the build fails: {header}",
                f"No wheel for {pkg}=={ver} matches this Python, and compiling it fails for lack of system headers."],
        fixes=[f"Install the system packages ({sysdep}) before pip install, or pin {pkg} to a version with a prebuilt wheel (e.g. psycopg2-binary)."],
        runbook=[f"Run the job in the `python-build` image (container: ghcr.io/{p.org}/python-build:3.11), which already has {sysdep}."],
        summary=f"Failed building wheel for {pkg}", setup="python")
