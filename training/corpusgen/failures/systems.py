"""Go, Cargo/Rust, .NET and Ruby failures."""
from __future__ import annotations

from ..case import Case, Project, failure
from ..vocab import Vocab


@failure("go_build_error", "compilation", "go")
def go_build(v: Vocab, p: Project) -> Case:
    d = v.go_pkg_dir()
    f = f"{d}/{v.word()}.go"
    ln, col = v.line(), v.col()
    msg = v.pick([f"undefined: {v.camel()}", f"cannot use {v.word()} (variable of type string) as int value in argument to {v.verb()}{v.word().capitalize()}",
                  f"\"{v.pick(['fmt', 'strings', 'os', 'context'])}\" imported and not used", f"too many arguments in call to {v.verb()}{v.word().capitalize()}",
                  f"{v.word()} declared and not used"])
    mod = f"github.com/{p.org}/{p.repo}"
    lines = [f"# {mod}/{d}", f"{f}:{ln}:{col}: {msg}"]
    if v.chance(0.5):
        lines = [f"go: downloading {v.go_module()} v{v.int(0, 1)}.{v.int(1, 40)}.{v.int(0, 9)}"] + lines
    return Case(
        step="Build", command=v.pick(["go build ./...", "go vet ./... && go build ./...", "make build"]), lines=lines, key_ids=[f"{f}:{ln}"],
        causes=[f"The Go build fails at {f}:{ln}: {msg}.", f"go build reports a compile error at {f}:{ln} ({msg})."],
        fixes=[f"Fix {f}:{ln} and run `go build ./...` and `go vet ./...` locally before pushing.",
               f"Correct {f}:{ln} ({msg}) and check with `go vet ./...` and `go build ./...`."],
        runbook=[f"Fix {f}:{ln} and run `make check` (gofumpt, go vet, golangci-lint, go build), the same target the CI job uses."],
        summary=f"go build: {msg}", setup="go")


@failure("go_test_failure", "test", "go")
def go_test(v: Vocab, p: Project) -> Case:
    d = v.go_pkg_dir()
    test = f"Test{v.camel()}_{v.verb().capitalize()}"
    f = f"{v.word()}_test.go"
    ln = v.line()
    mod = f"github.com/{p.org}/{p.repo}"
    sub = v.pick(["", f"/{v.word()}_case", "/empty_input"])
    lines = [f"=== RUN   {test}", f"=== RUN   {test}{sub}" if sub else f"    {f}:{ln - 3}: setup done",
             f"    {f}:{ln}: ", f"        	Error Trace:	{p.root}/{d}/{f}:{ln}",
             f"        	Error:      	Not equal: ", f"        	            	expected: {v.int(1, 99)}",
             f"        	            	actual  : {v.int(100, 200)}", f"        	Test:       	{test}{sub}",
             f"--- FAIL: {test} (0.{v.int(0, 99):02d}s)", "FAIL", f"FAIL	{mod}/{d}	0.{v.int(10, 999)}s",
             f"ok  	{mod}/internal/{v.word()}	0.{v.int(10, 999)}s", "FAIL"]
    return Case(
        step="Test", command="go test -race ./...", lines=lines, key_ids=[test, f"{f}:{ln}"],
        causes=[f"The Go test {test}{sub} in {d} fails at {f}:{ln}: the values are not equal.",
                f"{test}{sub} fails at {f}:{ln}: expected and actual values differ."],
        fixes=[f"Run `go test ./{d} -run '{test}' -v` locally and fix the code or expectation at {f}:{ln}.",
               f"Reproduce with `go test -run '{test}' -v ./{d}` and fix the code or the expectation at {f}:{ln}."],
        runbook=[f"Reproduce with `make test` (it starts the TEST_DATABASE_URL service; plain go test skips DB tests) and fix {f}:{ln}."],
        summary=f"go test: {test} failing", setup="go")


@failure("go_mod_tidy", "dependency", "go")
def go_mod(v: Vocab, p: Project) -> Case:
    m = v.go_module()
    ver = f"v{v.int(0, 1)}.{v.int(1, 40)}.{v.int(0, 9)}"
    if v.chance(0.5):
        f = f"{v.go_pkg_dir()}/{v.word()}.go"
        lines = [f"{f}:{v.int(3, 15)}:2: missing go.sum entry for module providing package {m} (imported by github.com/{p.org}/{p.repo}/{f.rsplit('/', 1)[0]}); to add:",
                 f"	go get github.com/{p.org}/{p.repo}/{f.rsplit('/', 1)[0]}"]
        key = "go.sum"
    else:
        lines = [f"go: updates to go.mod needed; to update it:", "	go mod tidy"]
        if v.chance(0.5):
            lines = [f"go: {m}@{ver}: missing go.sum entry for go.mod file; to add it:", f"	go mod download {m}"]
        key = "go.mod" if "go.mod needed" in lines[0] else "go.sum"
    return Case(
        step="Build", command="go build ./...", lines=lines, key_ids=[key],
        causes=[f"{key} is not up to date with the imports, so the Go toolchain refuses to build with -mod=readonly.",
                f"The build refuses to change {key}: it does not match the imports (run with -mod=readonly)."],
        fixes=["Run `go mod tidy` locally and commit the updated go.mod and go.sum.",
               "Run `go mod tidy`, commit go.mod and go.sum, and rerun the build."],
        runbook=["The `go-mod-tidy` pre-commit hook keeps go.mod/go.sum in sync; private modules need GOPRIVATE=github.com/" + p.org + "/*."],
        summary=f"Go: {key} out of date", setup="go")


@failure("golangci_lint", "lint", "go")
def golangci(v: Vocab, p: Project) -> Case:
    f = f"{v.go_pkg_dir()}/{v.word()}.go"
    ln = v.line()
    linter, msg = v.pick([("errcheck", f"Error return value of `{v.word()}.Close` is not checked"),
                          ("ineffassign", f"ineffectual assignment to {v.word()}"), ("unused", f"func `{v.verb()}{v.word().capitalize()}` is unused"),
                          ("govet", "printf: fmt.Sprintf format %d has arg name of wrong type string"),
                          ("staticcheck", "SA1019: strings.Title has been deprecated")])
    lines = [f"level=info msg=\"[runner] linters took {v.secs()}s\"", f"{f}:{ln}:{v.col()}: {msg} ({linter})",
             f"	{v.word()}.Close()", "	^", f"level=info msg=\"File cache stats: {v.int(20, 200)} entries\"",
             "Error: issues found", "Ran golangci-lint in " + f"{v.int(3000, 90000)}ms"]
    return Case(
        step="Lint", command="golangci-lint run", lines=lines, key_ids=[f, linter],
        causes=[f"golangci-lint reports a {linter} issue in {f} at line {ln}: {msg}.",
                f"The {linter} linter flags {f}:{ln} ({msg})."],
        fixes=[f"Fix the {linter} finding at {f}:{ln} and run `golangci-lint run` locally with the repo's .golangci.yml.",
               f"Address the {linter} finding at {f}:{ln}, then run `golangci-lint run ./...` locally."],
        runbook=[f"Fix the {linter} finding in {f} using the golangci-lint version pinned in .tool-versions (newer versions enable extra linters)."],
        summary=f"golangci-lint {linter} in {f}", setup="go")


@failure("go_data_race", "test", "go")
def go_race(v: Vocab, p: Project) -> Case:
    d = v.go_pkg_dir()
    f = f"{v.word()}.go"
    fn = f"{v.camel()}.{v.verb().capitalize()}"
    test = f"Test{v.camel()}Concurrent"
    ln, ln2 = v.line(), v.line()
    lines = ["==================", "WARNING: DATA RACE", f"Write at 0x00c000{v.hex(6)} by goroutine {v.int(7, 90)}:",
             f"  github.com/{p.org}/{p.repo}/{d}.({fn})()", f"      {p.root}/{d}/{f}:{ln} +0x{v.hex(3)}", "",
             f"Previous read at 0x00c000{v.hex(6)} by goroutine {v.int(7, 90)}:", f"  github.com/{p.org}/{p.repo}/{d}.({fn})()",
             f"      {p.root}/{d}/{f}:{ln2} +0x{v.hex(2)}", "==================",
             f"    testing.go:1465: race detected during execution of test", f"--- FAIL: {test} (0.0{v.int(1, 9)}s)", "FAIL"]
    return Case(
        step="Test", command="go test -race ./...", lines=lines, key_ids=["DATA RACE", f"{f}:{ln}"],
        causes=[f"The race detector found a DATA RACE in {fn} ({d}/{f}:{ln}) during {test}.",
                f"go test -race reports a DATA RACE in {fn} at {d}/{f}:{ln} while running {test}."],
        fixes=[f"Protect the shared state in {f} with a mutex or channel (or atomic) and rerun `go test -race ./{d}`.",
               f"Synchronize access to the shared state in {f} (sync.Mutex, channel or atomic) and verify with `go test -race -count=20 ./{d}`."],
        runbook=[f"Guard the shared field in {f} with a mutex and confirm with `go test -race -count=50 -run {test}`; never drop -race from CI."],
        summary=f"Data race in {fn}", setup="go")


@failure("cargo_compile_error", "compilation", "cargo")
def cargo_compile(v: Vocab, p: Project) -> Case:
    f = v.rust_path()
    ln, col = v.line(), v.col()
    code, msg = v.pick([("E0425", f"cannot find value `{v.word()}` in this scope"), ("E0308", "mismatched types"),
                        ("E0382", f"borrow of moved value: `{v.word()}`"), ("E0599", f"no method named `{v.verb()}` found for struct `{v.camel()}` in the current scope"),
                        ("E0433", f"failed to resolve: use of undeclared crate or module `{v.crate()}`")])
    crate = p.repo.replace("-", "_")
    lines = [f"   Compiling {crate} v{v.version(2)} ({p.root})", f"error[{code}]: {msg}", f"  --> {f}:{ln}:{col}", "   |",
             f"{ln:>3} |     let total = {v.word()}.{v.verb()}();", "   |                 ^^^^^^", "",
             f"For more information about this error, try `rustc --explain {code}`.",
             f"error: could not compile `{crate}` (lib) due to 1 previous error"]
    return Case(
        step="Build", command="cargo build --locked", lines=lines, key_ids=[code, f"{f}:{ln}"],
        causes=[f"rustc error {code} ({msg}) at {f}:{ln} stops the cargo build.",
                f"cargo build stops on {code} at {f}:{ln}: {msg}."],
        fixes=[f"Fix {f}:{ln} per `rustc --explain {code}` and run `cargo check` locally.",
               f"Correct the code at {f}:{ln} ({code}: {msg}), then confirm with `cargo build --locked`."],
        runbook=[f"Fix {f}:{ln}, then run `cargo xtask ci` locally (fmt, clippy, build with the toolchain pinned in rust-toolchain.toml) before pushing."],
        summary=f"rustc {code} in {f}", setup="cargo")


@failure("cargo_test_failure", "test", "cargo")
def cargo_test(v: Vocab, p: Project) -> Case:
    f = v.rust_path()
    test = f"tests::{v.snake()}"
    ln = v.line()
    a, b = v.int(1, 50), v.int(51, 99)
    lines = [f"running {v.int(5, 120)} tests", f"test tests::{v.snake()} ... ok", f"test {test} ... FAILED", "", "failures:", "",
             f"---- {test} stdout ----", f"thread '{test}' panicked at {f}:{ln}:{v.col()}:", "assertion `left == right` failed",
             f"  left: {a}", f" right: {b}", "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace", "",
             "failures:", f"    {test}", "", f"test result: FAILED. {v.int(5, 119)} passed; 1 failed; 0 ignored; 0 measured; 0 filtered out",
             "", "error: test failed, to rerun pass `--lib`"]
    return Case(
        step="Test", command="cargo test --all-features", lines=lines, key_ids=[test, f"{f}:{ln}"],
        causes=[f"The Rust test {test} panics at {f}:{ln}: assertion left == right failed ({a} vs {b}).",
                f"{test} fails: the assertion at {f}:{ln} compared {a} with {b}."],
        fixes=[f"Run `cargo test {test.split('::')[-1]}` locally and fix the logic or assertion at {f}:{ln}.",
               f"Reproduce with `cargo test {test.split('::')[-1]} -- --nocapture` and fix the code under test or the expected value at {f}:{ln}."],
        runbook=[f"Reproduce with `RUST_BACKTRACE=1 cargo nextest run {test}` as CI does and fix the logic; if it is a snapshot test, accept the change with `cargo insta review`."],
        summary=f"cargo test {test} failed", setup="cargo")


@failure("clippy_warnings", "lint", "cargo")
def clippy(v: Vocab, p: Project) -> Case:
    f = v.rust_path()
    ln = v.line()
    w = v.word()
    lint, msg, code = v.pick([
        ("clippy::needless_return", "unneeded `return` statement", f"return Ok({w});"),
        ("clippy::redundant_clone", "redundant clone", f"let {w} = {w}_ref.clone();"),
        ("clippy::unwrap_used", "used `unwrap()` on a `Result` value", f"let {w} = parse_{w}(&input).unwrap();"),
        ("clippy::too_many_arguments", f"this function has too many arguments ({v.int(8, 11)}/7)", f"pub fn {v.verb()}_{w}(a: u32, b: u32, c: &str, d: &str, e: bool, f: bool, g: u64, h: u64) {{"),
        ("clippy::len_zero", "length comparison to zero", f"if {w}s.len() == 0 {{"),
        ("clippy::needless_borrow", "this expression creates a reference which is immediately dereferenced by the compiler", f"{v.verb()}(&{w});"),
        ("clippy::manual_map", "manual implementation of `Option::map`", f"match {w} {{ Some(x) => Some(x + 1), None => None }}"),
    ])
    lines = [f"    Checking {p.repo.replace('-', '_')} v{v.version(2)} ({p.root})", f"error: {msg}",
             f"  --> {f}:{ln}:{v.col()}", "   |", f"{ln:>3} |     {code}", "   |     " + "^" * v.int(6, 20),
             f"   = help: for further information visit https://rust-lang.github.io/rust-clippy/master/index.html#{lint.split('::')[1]}",
             f"   = note: `-D {lint.replace('_', '-')}` implied by `-D warnings`",
             f"error: could not compile `{p.repo.replace('-', '_')}` (lib) due to 1 previous error"]
    return Case(
        step="Lint", command="cargo clippy --all-targets -- -D warnings", lines=lines, key_ids=[lint.split("::")[1], f"{f}:{ln}"],
        causes=[f"cargo clippy with -D warnings fails on {lint} at {f}:{ln}.",
                f"The clippy lint {lint} fires at {f}:{ln}, and -D warnings turns it into an error."],
        fixes=[f"Fix the {lint} finding at {f}:{ln} (`cargo clippy --fix` can apply it) and rerun clippy.",
               f"Rewrite {f}:{ln} as clippy suggests for {lint}, then run `cargo clippy --all-targets -- -D warnings`."],
        runbook=[f"Fix the {lint} finding at {f}:{ln} in the same PR (run clippy with the toolchain from rust-toolchain.toml); do not add a blanket #[allow]."],
        summary=f"clippy {lint} in {f}", setup="cargo")


@failure("dotnet_build_error", "compilation", "dotnet")
def dotnet_build(v: Vocab, p: Project) -> Case:
    proj = "".join(w.capitalize() for w in p.repo.split("-"))
    f = v.cs_path(proj)
    ln, col = v.line(), v.col()
    code, msg = v.pick([("CS0246", f"The type or namespace name '{v.camel()}' could not be found (are you missing a using directive or an assembly reference?)"),
                        ("CS1061", f"'{v.camel()}' does not contain a definition for '{v.verb().capitalize()}Async'"),
                        ("CS0029", "Cannot implicitly convert type 'string' to 'int'"), ("CS8618", "Non-nullable property 'Name' must contain a non-null value when exiting constructor.")])
    lines = [f"/home/runner/work/{p.repo}/{p.repo}/{f}({ln},{col}): error {code}: {msg} [/home/runner/work/{p.repo}/{p.repo}/src/{proj}/{proj}.csproj]",
             "", "Build FAILED.", "", f"/home/runner/work/{p.repo}/{p.repo}/{f}({ln},{col}): error {code}: {msg}",
             f"    {v.int(0, 12)} Warning(s)", "    1 Error(s)", "", f"Time Elapsed 00:00:{v.int(10, 59)}.{v.int(10, 99)}"]
    return Case(
        step="Build", command="dotnet build --configuration Release --no-restore", lines=lines, key_ids=[code, f.rsplit("/", 1)[1]],
        causes=[f"The C# compiler reports {code} in {f.rsplit('/', 1)[1]} at line {ln}.", f"dotnet build fails with {code} in {f.rsplit('/', 1)[1]}: {msg}"],
        fixes=[f"Fix {f}({ln},{col}) ({code}: add the missing using/reference or correct the type) and run `dotnet build` locally.",
               f"Correct {f.rsplit('/', 1)[1]} line {ln} ({code}) and rebuild with `dotnet build -c Release`."],
        runbook=[f"Fix {code} in {f.rsplit('/', 1)[1]} and build with `dotnet build -c Release` locally; Directory.Build.props treats warnings as errors there."],
        summary=f"dotnet {code} in {f.rsplit('/', 1)[1]}", setup="dotnet")


@failure("dotnet_test_failure", "test", "dotnet")
def dotnet_test(v: Vocab, p: Project) -> Case:
    proj = "".join(w.capitalize() for w in p.repo.split("-"))
    cls = v.camel() + "Tests"
    meth = f"{v.verb().capitalize()}{v.word().capitalize()}_{v.pick(['ReturnsOk', 'ThrowsWhenNull', 'ComputesTotal'])}"
    ln = v.line()
    lines = [f"Starting test execution, please wait...", f"A total of 1 test files matched the specified pattern.",
             f"  Failed {proj}.Tests.{cls}.{meth} [{v.ms()} ms]", "  Error Message:", "   Assert.Equal() Failure",
             f"Expected: {v.int(1, 99)}", f"Actual:   {v.int(100, 200)}", "  Stack Trace:",
             f"     at {proj}.Tests.{cls}.{meth}() in /home/runner/work/{p.repo}/{p.repo}/tests/{proj}.Tests/{cls}.cs:line {ln}", "",
             f"Failed!  - Failed:     1, Passed:   {v.int(20, 500)}, Skipped:     0, Total:   {v.int(21, 501)}, Duration: {v.int(1, 40)} s - {proj}.Tests.dll (net8.0)"]
    return Case(
        step="Test", command="dotnet test --no-build", lines=lines, key_ids=[f"{cls}.{meth}"],
        causes=[f"The xUnit test {cls}.{meth} fails: Assert.Equal() at {cls}.cs line {ln}.",
                f"{cls}.{meth} fails with Assert.Equal() at {cls}.cs:line {ln}."],
        fixes=[f"Run `dotnet test --filter FullyQualifiedName~{cls}.{meth}` locally and fix the code or the expected value.",
               f"Reproduce {cls}.{meth} with `dotnet test --filter {meth}` and fix the regression or the expected value."],
        runbook=[f"Start the test services with `docker compose -f tests/compose.yml up -d`, reproduce {cls}.{meth} locally and fix the regression."],
        summary=f"dotnet test {cls}.{meth} failed", setup="dotnet")


@failure("nuget_restore_failed", "dependency", "dotnet")
def nuget(v: Vocab, p: Project) -> Case:
    pkg = v.pick([v.nuget(), f"{p.org.capitalize()}.{v.word().capitalize()}.Client"])
    ver = v.version(8)
    proj = "".join(w.capitalize() for w in p.repo.split("-"))
    code, msg = v.pick([("NU1101", f"Unable to find package {pkg}. No packages exist with this id in source(s): nuget.org"),
                        ("NU1102", f"Unable to find package {pkg} with version (>= {ver})")])
    lines = ["  Determining projects to restore...",
             f"/home/runner/work/{p.repo}/{p.repo}/src/{proj}/{proj}.csproj : error {code}: {msg}",
             f"  Failed to restore /home/runner/work/{p.repo}/{p.repo}/src/{proj}/{proj}.csproj (in {v.int(1, 9)}.{v.int(0, 99)} sec)."]
    return Case(
        step="Restore", command="dotnet restore", lines=lines, key_ids=[code, pkg],
        causes=[f"dotnet restore fails with {code}: package {pkg} ({ver}) is not available from the configured NuGet sources.",
                f"NuGet restore fails with {code} for {pkg}."],
        fixes=[f"Add the private feed that hosts {pkg} to nuget.config with credentials, or fix the package id/version in {proj}.csproj.",
               f"Point nuget.config at the feed that publishes {pkg} (with credentials), or correct its id/version."],
        runbook=["Private packages are on the Azure Artifacts feed; CI authenticates with the NUGET_AUTH_TOKEN secret via actions/setup-dotnet source-url."],
        summary=f"NuGet {code}: {pkg}", setup="dotnet")


@failure("rspec_failure", "test", "ruby")
def rspec(v: Vocab, p: Project) -> Case:
    spec = f"spec/{v.pick(['models', 'requests', 'services'])}/{v.word()}_spec.rb"
    ln = v.line()
    desc = f"{v.camel()} #{v.verb()} {v.pick(['returns the total', 'sends an email', 'rejects invalid input'])}"
    lines = [f"Randomized with seed {v.int(1000, 65000)}", "." * v.int(20, 60) + "F" + "." * v.int(5, 40), "", "Failures:", "",
             f"  1) {desc}", "     Failure/Error: expect(result).to eq(" + str(v.int(1, 99)) + ")", "",
             f"       expected: {v.int(1, 99)}", f"            got: {v.int(100, 200)}", "", "       (compared using ==)",
             f"     # ./{spec}:{ln}:in `block (3 levels) in <top (required)>'", "",
             f"Finished in {v.secs()} seconds (files took {v.secs()} seconds to load)", f"{v.int(50, 900)} examples, 1 failure", "",
             "Failed examples:", "", f"rspec ./{spec}:{ln} # {desc}"]
    return Case(
        step="Test", command="bundle exec rspec", lines=lines, key_ids=[f"{spec}:{ln}"],
        causes=[f"The RSpec example \"{desc}\" at {spec}:{ln} fails its expectation.",
                f"RSpec example {spec}:{ln} fails: expected and got values differ."],
        fixes=[f"Run `bundle exec rspec {spec}:{ln}` locally (with the same seed) and fix the code or the expectation.",
               f"Reproduce with `bundle exec rspec {spec}:{ln}` and fix the code or the expectation."],
        runbook=[f"Rerun `bundle exec rspec {spec}` with the seed from the log and `--bisect` to find an order-dependent polluter, then fix it."],
        summary=f"RSpec failure in {spec}", setup="ruby")


@failure("bundler_gem_missing", "dependency", "ruby")
def bundler(v: Vocab, p: Project) -> Case:
    gem = v.gem()
    ver = v.version(7)
    if v.chance(0.5):
        lines = [f"Could not find {gem}-{ver} in locally installed gems", "Run `bundle install` to install missing gems."]
        key = f"{gem}-{ver}"
    else:
        lines = ["Fetching gem metadata from https://rubygems.org/.........",
                 f"Could not find gem '{gem} (= {ver})' in rubygems repository https://rubygems.org/ or installed locally.",
                 "", f"The source contains the following gems matching '{gem}':", f"  * {gem}-{v.version(7)}"]
        key = gem
    return Case(
        step="Install dependencies", command="bundle install --jobs 4 --retry 3", lines=lines, key_ids=[key],
        causes=[f"Bundler cannot find the gem {key} required by the Gemfile.lock." if key != gem else f"Bundler cannot find the gem {gem} ({ver}) required by the Gemfile.lock.",
                f"bundle install fails: {key} is not available."],
        fixes=[f"Update Gemfile.lock to an existing {gem} version (`bundle update {gem}`) and commit it; check the Ruby version matches.",
               f"Run `bundle update {gem}` to pick an existing version, commit Gemfile.lock, and rerun bundle install."],
        runbook=[f"Run `bin/setup` (it honours .ruby-version), then `bundle update --conservative {gem}` and commit Gemfile.lock; the cache is keyed on the lockfile, so clearing it will not help."],
        summary=f"Bundler cannot find {gem} {ver}", setup="ruby")


@failure("rubocop_offenses", "lint", "ruby")
def rubocop(v: Vocab, p: Project) -> Case:
    f = f"app/{v.pick(['models', 'controllers', 'services'])}/{v.word()}_{v.pick(['service', 'controller', 'job'])}.rb"
    cop = v.pick(["Style/StringLiterals", "Layout/LineLength", "Lint/UselessAssignment", "Metrics/MethodLength", "Style/FrozenStringLiteralComment"])
    ln = v.line()
    lines = [f"Inspecting {v.int(100, 900)} files", "." * v.int(10, 50) + "C" + "." * v.int(10, 50), "", "Offenses:", "",
             f"{f}:{ln}:{v.col()}: C: [Correctable] {cop}: {v.pick(['Prefer single-quoted strings.', 'Line is too long. [131/120]', 'Useless assignment to variable.'])}",
             "", f"{v.int(100, 900)} files inspected, 1 offense detected, 1 offense autocorrectable"]
    return Case(
        step="Lint", command="bundle exec rubocop", lines=lines, key_ids=[f, cop],
        causes=[f"RuboCop reports a {cop} offense in {f} at line {ln}.",
                f"{f}:{ln} violates {cop}, failing `rubocop`."],
        fixes=[f"Run `bundle exec rubocop -a {f}` and commit the correction.",
               f"Autocorrect with `bundle exec rubocop -a {f}` (or fix {cop} by hand) and commit."],
        runbook=[f"Run `bin/lint --fix` to correct {cop} in {f}; new code must not be added to .rubocop_todo.yml."],
        summary=f"RuboCop {cop} in {f}", setup="ruby")
