"""Failures in the long tail of languages that public CI datasets contain (PHP, Haskell, Erlang,
Elixir, Scala, Swift, Perl, R): test runners and compilers with their own output shapes."""
from __future__ import annotations

from ..case import Case, Project, failure
from ..vocab import Vocab


@failure("phpunit_failure", "test", "php")
def phpunit(v: Vocab, p: Project) -> Case:
    cls = f"Tests\\Unit\\{v.camel()}Test"
    meth = f"test{v.verb().capitalize()}{v.word().capitalize()}"
    f = f"tests/Unit/{cls.split(chr(92))[-1]}.php"
    ln = v.line()
    lines = [f"$ php --version", f"PHP 8.{v.int(1, 3)}.{v.int(0, 20)} (cli) (built: Mar 12 2024 10:11:12) (NTS)",
             f"$ vendor/bin/phpunit", f"PHPUnit 10.{v.int(0, 5)}.{v.int(0, 9)} by Sebastian Bergmann and contributors.", "",
             "." * v.int(20, 60) + "F" + "." * v.int(5, 30), "", "There was 1 failure:", "",
             f"1) {cls}::{meth}", "Failed asserting that two strings are identical.", "--- Expected", "+++ Actual", "@@ @@",
             f"-'{v.word()}'", f"+'{v.word()}'", "", f"{p.root}/{f}:{ln}", "", "FAILURES!",
             f"Tests: {v.int(50, 600)}, Assertions: {v.int(100, 2000)}, Failures: 1."]
    return Case(
        step="Test", command="vendor/bin/phpunit", lines=lines, key_ids=[f"{cls.split(chr(92))[-1]}::{meth}", f"{f}:{ln}"],
        causes=[f"The PHPUnit test {cls.split(chr(92))[-1]}::{meth} fails its string assertion at {f}:{ln}.",
                f"{cls.split(chr(92))[-1]}::{meth} fails at {f}:{ln}: the two strings differ."],
        fixes=[f"Run `vendor/bin/phpunit --filter {meth}` locally and fix the code or the expected value at {f}:{ln}.",
               f"Reproduce with `vendor/bin/phpunit --filter {meth}` and fix the code or the expectation at {f}:{ln}."],
        runbook=[f"Fix {f}:{ln}, then run `composer test -- --filter {meth}` in the php-ci container before pushing."],
        summary=f"PHPUnit {meth} failing", setup="preset")


@failure("composer_dependency", "dependency", "php")
def composer(v: Vocab, p: Project) -> Case:
    pkg = v.pick(["laravel/framework", "symfony/console", "guzzlehttp/guzzle", "doctrine/orm", "monolog/monolog", "phpunit/phpunit"])
    ver = f"^{v.int(5, 11)}.{v.int(0, 4)}"
    php = f"8.{v.int(0, 1)}.{v.int(10, 30)}"
    lines = ["$ composer install --no-interaction --prefer-dist", "Installing dependencies from lock file (including require-dev)",
             "Verifying lock file contents can be installed on current platform.",
             "Your lock file does not contain a compatible set of packages. Please run composer update.", "",
             "  Problem 1", f"    - {pkg} is locked to version v{ver[1:]}.{v.int(0, 9)} and an update of this package was not requested.",
             f"    - {pkg} v{ver[1:]}.{v.int(0, 9)} requires php ^8.2 -> your php version ({php}) does not satisfy that requirement."]
    return Case(
        step="Install dependencies", command="composer install", lines=lines, key_ids=[pkg],
        causes=[f"composer cannot install the lock file: {pkg} requires PHP ^8.2 but the job runs PHP {php}."],
        fixes=[f"Run the job on PHP 8.2+ (setup-php / image tag) or pin {pkg} to a release that supports PHP {php[:3]} and update composer.lock."],
        runbook=["Set the platform PHP in composer.json (config.platform.php) to the CI version so composer.lock never needs a newer PHP."],
        summary=f"composer: {pkg} needs newer PHP", setup="preset")


@failure("haskell_compile_error", "compilation", "haskell")
def haskell(v: Vocab, p: Project) -> Case:
    mod = f"src/{v.camel().replace('Service', '')}/{v.word().capitalize()}.hs"
    ln, col = v.line(), v.col()
    msg = v.pick([f"Variable not in scope: {v.verb()}{v.word().capitalize()} :: Int -> Text",
                  "Couldn't match expected type ‘Text’ with actual type ‘String’", f"Not in scope: type constructor or class ‘{v.camel()}’"])
    lines = [f"$ stack --no-terminal build --test --no-run-tests", f"{p.repo}> configure (lib)", f"{p.repo}> build (lib)",
             f"{p.repo}> [ {v.int(2, 9)} of {v.int(10, 30)}] Compiling {mod[4:-3].replace('/', '.')} ( {mod}, .stack-work/dist/x86_64-linux/ghc-9.4.7/build/{mod[4:-3]}.o )",
             "", f"{mod}:{ln}:{col}: error:", f"    • {msg}", f"    |", f"{ln:>4} |   {v.word()} <- {v.verb()} {v.word()}", "    |   ^^^^^^^^", "",
             f"Error: [S-7282]", f"       Stack failed to execute the build plan."]
    return Case(
        step="Build", command="stack build", lines=lines, key_ids=[f"{mod}:{ln}"],
        causes=[f"GHC fails to compile {mod}:{ln}: {msg.split(' :: ')[0]}.",
                f"The stack build fails: {mod}:{ln} does not type-check ({msg.split(' :: ')[0]})."],
        fixes=[f"Fix {mod}:{ln} (import or define the name, or convert the type) and rebuild with `stack build`.",
               f"Correct {mod}:{ln} (add the import or definition, or convert the type) and rerun `stack build --test --no-run-tests`."],
        runbook=["Build with the resolver pinned in stack.yaml; `stack build --fast --file-watch` reproduces CI's compile errors quickly."],
        summary=f"GHC error in {mod}", setup="preset")


@failure("erlang_eunit_failure", "test", "erlang")
def erlang(v: Vocab, p: Project) -> Case:
    mod = f"{v.word()}_{v.pick(['server', 'sup', 'handler', 'codec'])}"
    fn = f"{v.verb()}_{v.word()}_test"
    ln = v.line()
    lines = ["$ rebar3 eunit", "===> Verifying dependencies...", "===> Analyzing applications...", "===> Compiling " + p.repo.replace("-", "_"),
             "===> Performing EUnit tests...", f"{mod}_tests: {fn}...*failed*",
             f"in function {mod}_tests:'-{fn}/0-fun-0-'/0 (test/{mod}_tests.erl, line {ln})", "**error:{assertEqual,[{module,%s_tests}," % mod,
             f"                     {{line,{ln}}},", f"                     {{expression,\"{mod}:{v.verb()}({v.int(1, 9)})\"}},",
             f"                     {{expected,{v.int(1, 50)}}},", f"                     {{value,{v.int(51, 99)}}}]}}", "",
             "=======================================================", f"  Failed: 1.  Skipped: 0.  Passed: {v.int(10, 300)}.", "===> Error running tests"]
    return Case(
        step="Test", command="rebar3 eunit", lines=lines, key_ids=[f"{mod}_tests", fn],
        causes=[f"The EUnit test {fn} in {mod}_tests fails an assertEqual at line {ln}.",
                f"{mod}_tests:{fn} fails: assertEqual got a different value at line {ln}."],
        fixes=[f"Run `rebar3 eunit --module={mod}_tests` locally and fix {mod} or the expected value at line {ln}.",
               f"Reproduce with `rebar3 eunit --module={mod}_tests` and fix {mod} or the test's expected value."],
        runbook=["Use the OTP version from .tool-versions; `rebar3 do eunit, ct` is what CI runs."],
        summary=f"EUnit {fn} failing", setup="preset")


@failure("elixir_mix_test_failure", "test", "elixir")
def elixir(v: Vocab, p: Project) -> Case:
    mod = f"{p.repo.replace('-', '_').title().replace('_', '')}.{v.camel()}Test"
    f = f"test/{v.word()}_{v.word()}_test.exs"
    ln = v.line()
    test = f"{v.verb()}/{v.int(1, 3)} {v.pick(['returns an error for invalid input', 'creates a record', 'broadcasts the update'])}"
    lines = ["$ mix test", f"Compiling {v.int(10, 90)} files (.ex)", f"Generated {p.repo.replace('-', '_')} app", "",
             f"  1) test {test} ({mod})", f"     {f}:{ln}", "     Assertion with == failed",
             f"     code:  assert {v.word()}.status == :{v.word()}", f"     left:  :{v.word()}", f"     right: :{v.word()}",
             f"     stacktrace:", f"       {f}:{ln + 3}: (test)", "", f"Finished in {v.secs()} seconds ({v.secs()}s async, {v.secs()}s sync)",
             f"{v.int(50, 600)} tests, 1 failure", "", f"Randomized with seed {v.int(100000, 999999)}"]
    return Case(
        step="Test", command="mix test", lines=lines, key_ids=[f"{f}:{ln}"],
        causes=[f"The ExUnit test \"{test}\" ({mod}) fails an assertion at {f}:{ln}.",
                f"An ExUnit assertion fails at {f}:{ln} in {mod}."],
        fixes=[f"Run `mix test {f}:{ln}` locally (with the seed from the log) and fix the code or the assertion.",
               f"Reproduce with `mix test {f}:{ln} --seed 0` and fix the code or the assertion."],
        runbook=["Run `mix test --failed` after a full run; database tests need `MIX_ENV=test mix ecto.reset` first."],
        summary=f"ExUnit failure in {f}", setup="preset")


@failure("sbt_compile_error", "compilation", "scala")
def sbt(v: Vocab, p: Project) -> Case:
    f = f"src/main/scala/{v.java_package(p.org).replace('.', '/')}/{v.camel()}.scala"
    ln, col = v.line(), v.col()
    msg = v.pick([f"not found: value {v.word()}{v.word().capitalize()}", "type mismatch;\n[error]  found   : String\n[error]  required: Int",
                  f"value {v.verb()} is not a member of {v.camel()}"])
    lines = ["$ sbt ++2.13.12 test", "[info] welcome to sbt 1.9.8 (Eclipse Adoptium Java 17.0.10)", f"[info] loading project definition from {p.root}/project",
             f"[info] compiling {v.int(20, 200)} Scala sources to {p.root}/target/scala-2.13/classes ...",
             f"[error] {p.root}/{f}:{ln}:{col}: {msg}", f"[error]     val total = {v.word()}({v.int(1, 9)})", "[error]                 ^", "[error] one error found",
             "[error] (Compile / compileIncremental) Compilation failed", f"[error] Total time: {v.int(20, 200)} s"]
    return Case(
        step="Build", command="sbt test", lines=lines, key_ids=[f"{f.rsplit('/', 1)[1]}:{ln}"],
        causes=[f"scalac fails at {f.rsplit('/', 1)[1]}:{ln}: {msg.splitlines()[0]}.",
                f"sbt compilation fails in {f.rsplit('/', 1)[1]}:{ln} ({msg.splitlines()[0]})."],
        fixes=[f"Fix {f}:{ln} and run `sbt compile` locally with the Scala version from build.sbt.",
               f"Correct {f.rsplit('/', 1)[1]}:{ln} and rerun `sbt compile`."],
        runbook=["Run `sbt +compile` to check every cross-built Scala version CI builds."],
        summary=f"scalac error in {f.rsplit('/', 1)[1]}", setup="preset")


@failure("swift_build_error", "compilation", "swift")
def swift(v: Vocab, p: Project) -> Case:
    target = "".join(w.capitalize() for w in p.repo.split("-"))
    f = f"Sources/{target}/{v.camel()}.swift"
    ln, col = v.line(), v.col()
    msg = v.pick([f"cannot find '{v.word()}{v.word().capitalize()}' in scope", "value of optional type 'String?' must be unwrapped to a value of type 'String'",
                  f"'{v.verb()}(_:)' is only available in iOS 16.0 or newer"])
    lines = [f"$ xcodebuild -scheme {target} -destination 'platform=iOS Simulator,name=iPhone 15' build",
             f"CompileSwift normal arm64 {p.root}/{f} (in target '{target}' from project '{target}')",
             f"{p.root}/{f}:{ln}:{col}: error: {msg}", f"        let value = {v.word()}.{v.verb()}()", "                ^", "",
             "** BUILD FAILED **", "", "The following build commands failed:", f"	CompileSwift normal arm64 {p.root}/{f}", "(1 failure)"]
    return Case(
        step="Build", command="xcodebuild build", lines=lines, key_ids=[f"{f.rsplit('/', 1)[1]}:{ln}"],
        causes=[f"Swift compilation fails at {f.rsplit('/', 1)[1]}:{ln}: {msg}.",
                f"xcodebuild fails: {f.rsplit('/', 1)[1]}:{ln} does not compile ({msg})."],
        fixes=[f"Fix {f}:{ln} (unwrap the optional, add an availability check, or define the symbol) and build with the Xcode version CI uses.",
               f"Correct {f.rsplit('/', 1)[1]}:{ln} and rebuild with the Xcode version pinned in CI."],
        runbook=["CI pins Xcode with `sudo xcode-select -s /Applications/Xcode_15.2.app`; build with the same version locally."],
        summary=f"Swift error in {f.rsplit('/', 1)[1]}", setup="preset")


@failure("perl_prove_failure", "test", "perl")
def perl(v: Vocab, p: Project) -> Case:
    t = f"t/{v.int(0, 9)}{v.int(0, 9)}-{v.word()}.t"
    n = v.int(2, 40)
    ln = v.line()
    lines = ["$ prove -lr t", f"t/00-load.t ........ ok", f"{t} ..... 1/{n + 3} ",
             f"#   Failed test '{v.verb()}s {v.word()}'", f"#   at {t} line {ln}.", f"#          got: '{v.word()}'", f"#     expected: '{v.word()}'",
             f"# Looks like you failed 1 test of {n + 3}.", f"{t} ..... Dubious, test returned 1 (wstat 256, 0x100)", f"Failed 1/{n + 3} subtests",
             "", "Test Summary Report", "-------------------", f"{t} (Wstat: 256 (exited 1) Tests: {n + 3} Failed: 1)", f"  Failed test:  {n}",
             f"Files={v.int(5, 40)}, Tests={v.int(50, 900)},  {v.int(1, 30)} wallclock secs", "Result: FAIL"]
    return Case(
        step="Test", command="prove -lr t", lines=lines, key_ids=[f"{t} line {ln}"],
        causes=[f"A Perl test fails: {t} line {ln} got a different value than expected.",
                f"prove reports a failed subtest: {t} line {ln} got an unexpected value."],
        fixes=[f"Run `prove -lv {t}` locally and fix the code or the expectation at line {ln}.",
               f"Reproduce with `prove -lv {t}` and fix the code or the expected value at line {ln}."],
        runbook=["Install deps with `cpanm --installdeps .` using the cpanfile.snapshot so local runs match CI."],
        summary=f"prove failure in {t}", setup="preset")


@failure("r_cmd_check_error", "test", "r")
def r_check(v: Vocab, p: Project) -> Case:
    pkg = v.word() + v.pick(["R", "tools", "kit"])
    f = f"tests/testthat/test-{v.word()}.R"
    ln = v.line()
    lines = [f"* checking tests ...", "  Running ‘testthat.R’", " ERROR", "Running the tests in ‘tests/testthat.R’ failed.",
             "Last 13 lines of output:", f"  ── Failure ({f.rsplit('/', 1)[1]}:{ln}:{v.int(3, 9)}): {v.verb()} works ──",
             f"  `{v.verb()}_{v.word()}(x)` not equal to {v.int(1, 99)}.", f"  1/1 mismatches", f"  [1] {v.int(100, 200)} - {v.int(1, 99)} == {v.int(50, 150)}",
             f"  [ FAIL 1 | WARN 0 | SKIP {v.int(0, 3)} | PASS {v.int(20, 300)} ]", "  Error: Test failures", "  Execution halted",
             "* checking PDF version of manual ... OK", "* DONE", "Status: 1 ERROR", f"See ‘{p.root}/{pkg}.Rcheck/00check.log’ for details."]
    return Case(
        step="R CMD check", command=f"R CMD check {pkg}_{v.version(2)}.tar.gz", lines=lines, key_ids=[f"{f.rsplit('/', 1)[1]}:{ln}"],
        causes=[f"R CMD check fails because a testthat expectation fails in {f.rsplit('/', 1)[1]}:{ln}.",
                f"testthat reports a failed expectation at {f.rsplit('/', 1)[1]}:{ln}, so R CMD check ends with an ERROR."],
        fixes=[f"Run `devtools::test(filter = \"{f.rsplit('-', 1)[1][:-2]}\")` locally and fix the function or the expected value at {f}:{ln}.",
               f"Reproduce with `devtools::test()` and fix the function or the expected value at {f}:{ln}."],
        runbook=["Use r-lib/actions/check-r-package; run `rcmdcheck::rcmdcheck()` locally to reproduce."],
        summary=f"testthat failure in {f.rsplit('/', 1)[1]}", setup="preset")
