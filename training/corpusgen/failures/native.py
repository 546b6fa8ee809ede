"""C/C++ (gcc/clang, CMake, linker), Helm, migrations, TLS, and repository hygiene linters."""
from __future__ import annotations

from ..case import Case, Project, failure
from ..vocab import Vocab


@failure("cpp_compile_error", "compilation", "cmake")
def cpp_compile(v: Vocab, p: Project) -> Case:
    f = f"src/{v.word()}/{v.word()}_{v.pick(['parser', 'codec', 'queue', 'engine'])}.{v.pick(['cpp', 'cc'])}"
    ln, col = v.line(), v.col()
    msg = v.pick([f"'{v.word()}_t' was not declared in this scope", f"no matching function for call to '{v.camel()}::{v.verb()}(int)'",
                  f"'std::{v.pick(['optional', 'span', 'format'])}' has not been declared", f"expected ';' before '}}' token"])
    lines = [f"[ {v.int(10, 80)}%] Building CXX object CMakeFiles/{p.repo}.dir/{f}.o", f"{p.root}/{f}: In function 'int {v.snake()}()':",
             f"{p.root}/{f}:{ln}:{col}: error: {msg}", f"  {ln} |     auto x = {v.word()}({v.int(1, 9)});", "      |              ^~~~",
             f"gmake[2]: *** [CMakeFiles/{p.repo}.dir/build.make:{v.int(70, 300)}: CMakeFiles/{p.repo}.dir/{f}.o] Error 1",
             f"gmake[1]: *** [CMakeFiles/Makefile2:{v.int(80, 200)}: CMakeFiles/{p.repo}.dir/all] Error 2", "gmake: *** [Makefile:146: all] Error 2"]
    return Case(
        step="Build", command="cmake --build build -j4", lines=lines, key_ids=[f"{f}:{ln}"],
        causes=[f"The C++ compiler fails at {f}:{ln}: {msg}.",
                f"{f}:{ln} does not compile ({msg}), so the CMake build fails."],
        fixes=[f"Fix {f}:{ln} (missing include/declaration or wrong signature) and rebuild with the same compiler and -std as CI.",
               f"Correct {f}:{ln}: add the missing include or declaration or match the function signature, then rebuild."],
        runbook=[f"Fix {f}:{ln} and rebuild with `make docker-build` (the cpp-toolchain container with CI's gcc 13 and -std=c++20)."],
        summary=f"C++ compile error in {f}", setup="none")


@failure("linker_undefined_reference", "compilation", "cmake")
def linker(v: Vocab, p: Project) -> Case:
    sym = f"{v.camel()}::{v.verb()}({v.pick(['int', 'std::string const&', ''])})"
    obj = f"{v.word()}.cpp.o"
    lines = [f"[ 9{v.int(0, 8)}%] Linking CXX executable {p.repo}", f"/usr/bin/ld: CMakeFiles/{p.repo}.dir/src/{obj}: in function `main':",
             f"{obj[:-2]}:(.text+0x{v.hex(3)}): undefined reference to `{sym}'", "collect2: error: ld returned 1 exit status",
             f"gmake[2]: *** [CMakeFiles/{p.repo}.dir/build.make:{v.int(100, 300)}: {p.repo}] Error 1"]
    return Case(
        step="Build", command="cmake --build build", lines=lines, key_ids=["undefined reference", sym.split("(")[0]],
        causes=[f"Linking fails with an undefined reference to {sym}: the object or library that defines it is not linked.",
                f"ld cannot resolve {sym}: undefined reference while linking {p.repo}."],
        fixes=[f"Add the source/library that defines {sym.split('(')[0]} to the target (target_link_libraries / add_executable sources) in CMakeLists.txt.",
               f"Link the library that defines {sym.split('(')[0]} (target_link_libraries in CMakeLists.txt) or add its source file to the target."],
        runbook=[f"Add the library that defines {sym.split('(')[0]} to cmake/Targets.cmake and link it to the {p.repo} target."],
        summary=f"Undefined reference to {sym.split('(')[0]}", setup="none")


@failure("cmake_package_not_found", "dependency", "cmake")
def cmake_pkg(v: Vocab, p: Project) -> Case:
    pkg = v.pick(["Boost", "OpenSSL", "Protobuf", "GTest", "fmt", "ZLIB", "CURL"])
    lines = [f"-- The CXX compiler identification is GNU 1{v.int(1, 3)}.{v.int(1, 3)}.0", "-- Detecting CXX compiler ABI info - done",
             f"CMake Error at CMakeLists.txt:{v.int(10, 60)} (find_package):",
             f"  By not providing \"Find{pkg}.cmake\" in CMAKE_MODULE_PATH this project has", f"  asked CMake to find a package configuration file provided by \"{pkg}\", but",
             "  CMake did not find one.", "", f"  Could not find a package configuration file provided by \"{pkg}\" with any of",
             "  the following names:", "", f"    {pkg}Config.cmake", f"    {pkg.lower()}-config.cmake", "", "-- Configuring incomplete, errors occurred!"]
    return Case(
        step="Configure", command="cmake -S . -B build -DCMAKE_BUILD_TYPE=Release", lines=lines, key_ids=[f"{pkg}Config.cmake"],
        causes=[f"CMake's find_package({pkg}) fails: the {pkg} development package ({pkg}Config.cmake) is not installed on the runner."],
        fixes=[f"Install the {pkg} dev package before configuring (apt-get install or vcpkg/conan) or set {pkg}_DIR to its install prefix."],
        runbook=["Dependencies come from vcpkg.json; configure with `-DCMAKE_TOOLCHAIN_FILE=$VCPKG_ROOT/scripts/buildsystems/vcpkg.cmake`."],
        summary=f"CMake cannot find {pkg}", setup="none")


@failure("helm_upgrade_failed", "configuration", "helm")
def helm(v: Vocab, p: Project) -> Case:
    rel = p.repo
    chart = f"charts/{rel}"
    f = f"{chart}/templates/{v.pick(['deployment', 'service', 'ingress', 'configmap'])}.yaml"
    ln = v.int(5, 80)
    kind = v.pick(["template", "pending"])
    if kind == "template":
        lines = [f"Error: UPGRADE FAILED: template: {rel}/templates/{f.rsplit('/', 1)[1]}:{ln}:{v.int(3, 30)}: executing \"{rel}/templates/{f.rsplit('/', 1)[1]}\" at <.Values.{v.word()}.{v.word()}>: nil pointer evaluating interface {{}}.{v.word()}"]
        key, cause = f.rsplit("/", 1)[1], f"helm cannot render {f} line {ln}: it reads a value missing from values.yaml (nil pointer)."
        fix = f"Add the missing key to values.yaml (or guard it with `default`/`if`) in {f}, and run `helm template` in CI before upgrading."
    else:
        lines = [f"Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress"]
        key, cause = "another operation", f"helm refuses to upgrade {rel}: another operation is still marked in progress (pending release from an interrupted deploy)."
        fix = f"Inspect `helm history {rel}` and roll back to the last deployed revision (`helm rollback {rel} <rev>`), then rerun the deploy."
    return Case(
        step="Deploy", command=f"helm upgrade --install {rel} {chart} -f values-prod.yaml --wait", lines=lines, key_ids=[key],
        causes=[cause], fixes=[fix],
        runbook=["Deploys run `helm upgrade --atomic --timeout 10m`, so failed upgrades roll back; pending releases need on-call to run `make helm-unstick`."],
        summary=f"helm upgrade failed for {rel}", setup="kubectl")


@failure("db_migration_failed", "configuration", "migrations")
def migration(v: Vocab, p: Project) -> Case:
    table = v.word() + "s"
    tool = v.pick(["alembic", "flyway", "rails"])
    rev = v.hex(12)
    if tool == "alembic":
        lines = [f"INFO  [alembic.runtime.migration] Running upgrade {v.hex(12)} -> {rev}, add {v.word()} to {table}",
                 f"sqlalchemy.exc.ProgrammingError: (psycopg2.errors.DuplicateColumn) column \"{v.word()}_id\" of relation \"{table}\" already exists"]
        key, cmd = rev, "alembic upgrade head"
    elif tool == "flyway":
        ver = f"V{v.int(2, 90)}__{v.verb()}_{table}.sql"
        lines = [f"Migrating schema \"public\" to version \"{ver.split('__')[0][1:]} - {v.verb()} {table}\"",
                 f"ERROR: Migration {ver} failed", "SQL State  : 42P07", f"Message    : ERROR: relation \"{table}\" already exists"]
        key, cmd = ver, "flyway migrate"
    else:
        ver = f"2024{v.int(1, 12):02d}{v.int(10, 28)}{v.int(100000, 999999)}"
        lines = [f"== {ver} Add{v.word().capitalize()}To{table.capitalize()}: migrating ===", f"rails aborted!",
                 f"StandardError: An error has occurred, this and all later migrations canceled:", f"PG::DuplicateTable: ERROR:  relation \"{table}\" already exists"]
        key, cmd = ver, "bin/rails db:migrate"
    return Case(
        step="Run migrations", command=cmd, lines=lines, key_ids=[key, table],
        causes=[f"The database migration {key} fails because {table} already has the object it tries to create (schema drift or a duplicated migration)."],
        fixes=[f"Make migration {key} idempotent or remove the duplicate change to {table}, and reset the CI database so it starts from a clean schema."],
        runbook=[f"Rebase onto main and drop the duplicate change to {table} from {key}: two branches added the same migration; CI databases are recreated per run."],
        summary=f"Migration {key} failed on {table}", setup="python" if tool == "alembic" else "none")


@failure("tls_certificate_error", "infrastructure", "runner")
def tls(v: Vocab, p: Project) -> Case:
    host = v.pick([f"nexus.{p.org}.internal", f"artifactory.{p.org}.internal", f"git.{p.org}.internal", f"npm.{p.org}.internal"])
    lines = v.pick([[f"curl: (60) SSL certificate problem: unable to get local issuer certificate"],
                    [f"npm ERR! code UNABLE_TO_GET_ISSUER_CERT_LOCALLY", f"npm ERR! request to https://{host}/ failed, reason: unable to get local issuer certificate"],
                    [f"PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target",
                     f"Could not transfer artifact from/to internal (https://{host}/repository/maven-public)"],
                    [f"pip._vendor.urllib3.exceptions.SSLError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain (_ssl.c:1006)", f"(host='{host}', port=443)"]])
    lines = [f"Connecting to https://{host} ..."] + lines
    return Case(
        step="Install dependencies", command=v.pick(["npm ci", "mvn -B verify", "pip install -r requirements.txt", f"curl -fsSL https://{host}/setup.sh"]),
        lines=lines, key_ids=[host], causes=[f"TLS verification of {host} fails: the runner does not trust the company CA that signs its certificate."],
        fixes=["Install the internal CA certificate into the runner/job image trust store (and NODE_EXTRA_CA_CERTS / Java truststore); never disable verification."],
        runbook=[f"Use the `ca-bundle` setup step (`./.github/actions/install-corp-ca`), which adds the CA for curl, npm, pip and Java."],
        summary=f"TLS error reaching {host}", setup="none")


@failure("shell_yaml_lint", "lint", "repo-lint")
def repo_lint(v: Vocab, p: Project) -> Case:
    tool = v.pick(["shellcheck", "hadolint", "yamllint"])
    if tool == "shellcheck":
        f = f"scripts/{v.word()}.sh"
        code = v.pick(["SC2086", "SC2046", "SC2155", "SC2164"])
        ln = v.line()
        lines = [f"In {f} line {ln}:", f"cd $BUILD_DIR && ./run.sh $ARGS", "   ^--------^ " + f"{code} (info): Double quote to prevent globbing and word splitting.",
                 "", "For more information:", f"  https://www.shellcheck.net/wiki/{code} -- Double quote to prevent globbing ..."]
        cmd = f"shellcheck {f}"
    elif tool == "hadolint":
        f = v.pick(["Dockerfile", "docker/Dockerfile"])
        code = v.pick(["DL3008", "DL3018", "DL3025", "DL4006"])
        ln = v.int(2, 40)
        lines = [f"{f}:{ln} {code} warning: {v.pick(['Pin versions in apt get install.', 'Use arguments JSON notation for CMD and ENTRYPOINT arguments', 'Set the SHELL option -o pipefail before RUN with a pipe in it'])}"]
        cmd = f"hadolint {f}"
    else:
        f = v.pick([".github/workflows/ci.yml", "k8s/base/deployment.yaml", "config/app.yaml"])
        ln = v.line()
        code = v.pick(["indentation", "trailing-spaces", "line-length", "truthy"])
        lines = [f"{f}", f"  {ln}:{v.col()}     error    {v.pick(['wrong indentation: expected 6 but found 4', 'trailing spaces', 'line too long (131 > 120 characters)'])}  ({code})"]
        cmd = "yamllint -s ."
    return Case(
        step="Lint", command=cmd, lines=lines, key_ids=[f, code],
        causes=[f"{tool} reports {code} in {f} at line {ln}, failing the lint job.",
                f"The {tool} check fails on {f} line {ln} ({code})."],
        fixes=[f"Fix {code} at {f}:{ln} as the message says and run `{cmd}` locally.",
               f"Correct {f}:{ln} for {code} and rerun `{cmd}`."],
        runbook=[f"Fix {code} in {f} and run `pre-commit run --all-files` (CI uses the same pinned hook versions)."],
        summary=f"{tool} {code} in {f}", setup="none")


@failure("npm_ebadengine", "configuration", "npm")
def ebadengine(v: Vocab, p: Project) -> Case:
    pkg = v.pick(["vite", "eslint", "@angular/cli", "next", "jest", "typescript"])
    want = v.pick([">=18.0.0", "^18.18.0 || >=20.0.0", ">=20.9.0"])
    have = v.pick(["v16.20.2", "v14.21.3", "v18.12.1"])
    lines = ["npm ERR! code EBADENGINE", "npm ERR! engine Unsupported engine", f"npm ERR! engine Not compatible with your version of node/npm: {pkg}@{v.version(5)}",
             f"npm ERR! notsup Required: {{\"node\":\"{want}\"}}", f"npm ERR! notsup Actual:   {{\"npm\":\"8.19.4\",\"node\":\"{have}\"}}"]
    return Case(
        step="Install dependencies", command="npm ci", lines=lines, key_ids=["EBADENGINE", pkg],
        causes=[f"{pkg} requires Node {want} but the job runs Node {have} (EBADENGINE)."],
        fixes=[f"Set node-version in the setup step (or .nvmrc) to a version that satisfies {want}."],
        runbook=[f"Bump .nvmrc to a version satisfying {want} and use `node-version-file: .nvmrc` in actions/setup-node."],
        summary=f"Node {have} too old for {pkg}", setup="none")


@failure("python_requires_mismatch", "configuration", "pip")
def requires_python(v: Vocab, p: Project) -> Case:
    pkg = v.py_package()
    need = v.pick([">=3.10", ">=3.11", ">=3.9"])
    have = {">=3.10": "3.8", ">=3.11": "3.9", ">=3.9": "3.7"}[need]
    lines = [f"Processing {p.root}", "  Installing build dependencies: started", "  Installing build dependencies: finished with status 'done'",
             f"ERROR: Package '{p.repo}' requires a different Python: {have}.18 not in '{need}'"]
    return Case(
        step="Install dependencies", command="pip install -e .", lines=lines, key_ids=[need],
        causes=[f"The project declares requires-python {need} but the job runs Python {have}."],
        fixes=[f"Use a Python version matching {need} in the job (setup-python / image tag), or relax requires-python if older versions are supported."],
        runbook=[f"Update .github/python-versions.json so the matrix only uses versions matching {need}, together with requires-python."],
        summary=f"Python {have} does not satisfy {need}", setup="none")
