"""Test-runner failures beyond plain assertions: timeouts, snapshots, e2e, coverage, services, flakes."""
from __future__ import annotations

from ..case import Case, Project, failure
from ..vocab import Vocab


@failure("pytest_timeout", "timeout", "pytest")
def pytest_timeout(v: Vocab, p: Project) -> Case:
    tfile, test = v.py_test()
    secs = v.pick([60, 120, 300, 600])
    where = v.pick(["socket.py", "threading.py", "selectors.py", "ssl.py"])
    lines = [f"{tfile}::{test} ", "+" * 34 + " Timeout " + "+" * 34, f"~~~~~~~~~~~~~~~~~ Stack of MainThread ({v.int(100000, 199999)}) ~~~~~~~~~~~~~~~~~",
             f"  File \"/usr/lib/python3.11/{where}\", line {v.int(200, 900)}, in {v.pick(['recv_into', 'wait', 'select', 'read'])}",
             "    return self._sock.recv_into(b)", "+" * 34 + " Timeout " + "+" * 34,
             f"FAILED {tfile}::{test} - Failed: Timeout >{secs}.0s",
             f"==== 1 failed, {v.int(50, 800)} passed in {v.int(400, 900)}.{v.int(10, 99)}s ===="]
    return Case(
        step="Test", command=f"pytest --timeout={secs}", lines=lines, key_ids=[test, f"Timeout >{secs}.0s"],
        causes=[f"{tfile}::{test} hangs until pytest-timeout kills it (Timeout >{secs}.0s), blocked in a network read.",
                f"The test {test} never finishes: it waits on a socket until the {secs}s pytest-timeout (Timeout >{secs}.0s)."],
        fixes=[f"Give the client call in {test} a timeout and stub the external service it waits on; raising --timeout only hides the hang."],
        runbook=["Tests must not reach the network: use the `responses`/`respx` fixtures from conftest; CI blocks egress for the test job."],
        summary=f"pytest timeout in {test}", setup="python")


@failure("go_test_timeout", "timeout", "go")
def go_test_timeout(v: Vocab, p: Project) -> Case:
    d = v.go_pkg_dir()
    test = f"Test{v.camel()}"
    f = f"{v.word()}_test.go"
    ln = v.line()
    mins = v.pick(["10m0s", "5m0s", "2m0s"])
    lines = [f"panic: test timed out after {mins}", f"	running tests:", f"		{test} ({mins})", "",
             f"goroutine {v.int(20, 300)} [chan receive, {v.int(2, 9)} minutes]:",
             f"github.com/{p.org}/{p.repo}/{d}.{test}(0xc000{v.hex(6)})", f"	{p.root}/{d}/{f}:{ln} +0x{v.hex(3)}",
             f"FAIL	github.com/{p.org}/{p.repo}/{d}	{mins[:-2]}.{v.int(10, 99)}s"]
    return Case(
        step="Test", command=f"go test -timeout {mins} ./...", lines=lines, key_ids=[test, f"{f}:{ln}"],
        causes=[f"{test} blocks on a channel receive at {f}:{ln} and the test binary panics after {mins} (test timed out).",
                f"The test binary panics after {mins}: {test} is stuck on a channel receive at {f}:{ln}."],
        fixes=[f"Fix the deadlock in {test} ({f}:{ln}): make sure something sends on the channel or use a context with a deadline.",
               f"Remove the deadlock in {test}: make sure the goroutine sends on the channel, or select on a context deadline at {f}:{ln}."],
        runbook=[f"Pass a context with a deadline into the code under {test} so it cannot block forever, and add goleak to catch leaked goroutines."],
        summary=f"go test timeout in {test}", setup="go")


@failure("jest_snapshot_mismatch", "test", "jest")
def jest_snapshot(v: Vocab, p: Project) -> Case:
    comp = v.camel().replace("Service", "Card").replace("Repository", "List")
    path = f"src/components/__tests__/{comp}.test.tsx"
    name = f"{comp} renders {v.pick(['correctly', 'the empty state', 'with a discount'])} 1"
    lines = [f" FAIL  {path}", f"  ● {comp} › renders", "", f"    expect(received).toMatchSnapshot()", "",
             f"    Snapshot name: `{name}`", "", "    - Snapshot  - 1", "    + Received  + 1", "",
             f"    -   <span className=\"price\">", f"    +   <span className=\"price price--{v.word()}\">", "",
             f" › 1 snapshot failed from 1 test suite. Inspect your code changes or run `npx jest -u` to update them.",
             f"Snapshot Summary", " › 1 snapshot failed from 1 test suite."]
    return Case(
        step="Test", command="npm test -- --ci", lines=lines, key_ids=[path],
        causes=[f"The snapshot `{name}` in {path} no longer matches the rendered {comp} (markup changed).",
                f"{path} fails because the stored snapshot `{name}` differs from what {comp} renders now."],
        fixes=[f"If the {comp} change is intended, run `npx jest {path} -u` and commit the updated snapshot; otherwise fix the component.",
               f"Update the snapshot with `npx jest {path} -u` if the new markup is intended; otherwise revert the {comp} change."],
        runbook=[f"Run `npx jest {path} -u` locally, commit the snapshot, and add a screenshot of {comp} to the PR description."],
        summary=f"Snapshot mismatch in {comp}", setup="node")


@failure("e2e_playwright_failure", "test", "playwright")
def playwright(v: Vocab, p: Project) -> Case:
    spec = f"e2e/{v.word()}.spec.ts"
    title = f"{v.word()} {v.pick(['checkout', 'login', 'search', 'upload'])} {v.pick(['succeeds', 'shows an error', 'redirects'])}"
    ln = v.line()
    sel = v.pick([f"getByRole('button', {{ name: '{v.verb().capitalize()}' }})", f"locator('[data-testid=\"{v.word()}-submit\"]')"])
    lines = [f"Running {v.int(20, 200)} tests using {v.int(2, 4)} workers", "",
             f"  1) [chromium] › {spec}:{ln}:{v.col()} › {title} ", "",
             f"    Error: Timed out 5000ms waiting for expect(locator).toBeVisible()", "",
             f"    Locator: {sel}", "    Expected: visible", "    Received: <element(s) not found>", "",
             f"      > {ln + 4} |   await expect(page.{sel}).toBeVisible();", "", f"    at {p.root}/{spec}:{ln + 4}:{v.col()}", "",
             "  1 failed", f"    [chromium] › {spec}:{ln}:{v.col()} › {title} ", f"  {v.int(20, 199)} passed ({v.int(1, 9)}.{v.int(0, 9)}m)"]
    return Case(
        step="E2E tests", command="npx playwright test", lines=lines, key_ids=[spec, title],
        causes=[f"The Playwright test \"{title}\" ({spec}) fails: the element {sel} never becomes visible.",
                f"In {spec}, \"{title}\" times out waiting for {sel} to be visible."],
        fixes=[f"Open the trace (`npx playwright show-trace`) for {spec}; update the selector if the UI changed, or fix the page so the element renders.",
               f"Check the Playwright trace for {spec}: update the locator if the UI changed, otherwise fix the page so it renders the element."],
        runbook=[f"Download the `playwright-report` artifact, check the trace for {spec}, and switch the locator to a data-testid selector."],
        summary=f"Playwright: {title}", setup="node")


@failure("coverage_threshold", "test", "coverage")
def coverage(v: Vocab, p: Project) -> Case:
    want = v.pick([80, 85, 90, 75])
    got = want - v.int(1, 6) - v.int(0, 99) / 100
    tool = v.pick(["pytest-cov", "jest", "jacoco"])
    lines = {"pytest-cov": [f"TOTAL                          {v.int(3000, 9000)}    {v.int(300, 900)}    {got:.2f}%",
                            f"FAIL Required test coverage of {want}% not reached. Total coverage: {got:.2f}%"],
             "jest": [f"Jest: \"global\" coverage threshold for lines ({want}%) not met: {got:.2f}%"],
             "jacoco": [f"[WARNING] Rule violated for bundle {p.repo}: lines covered ratio is 0.{int(got):02d}, but expected minimum is 0.{want}",
                        "[ERROR] Failed to execute goal org.jacoco:jacoco-maven-plugin:0.8.11:check (check) on project " + p.repo + ": Coverage checks have not been met."]}[tool]
    key = {"pytest-cov": f"Required test coverage of {want}%", "jest": f"coverage threshold for lines ({want}%)", "jacoco": "Coverage checks have not been met"}[tool]
    return Case(
        step="Test", command={"pytest-cov": "pytest --cov --cov-fail-under=%d" % want, "jest": "npm test -- --coverage", "jacoco": "mvn verify"}[tool],
        lines=lines, key_ids=[key], causes=[f"All tests pass but coverage ({got:.2f}%) is below the required threshold ({key})."],
        fixes=["Add tests for the new code paths the change introduced (see the coverage report); lower the threshold only with the team's agreement."],
        runbook=["Add tests for the lines listed in the PR's Codecov comment; the gate is per-diff, so covering the new code is enough."],
        summary=f"Coverage below {want}%", setup={"pytest-cov": "python", "jest": "node", "jacoco": "maven"}[tool])


@failure("service_connection_refused", "infrastructure", "services")
def service_refused(v: Vocab, p: Project) -> Case:
    svc, port, err = v.pick([("postgres", 5432, "psycopg2.OperationalError: connection to server at \"localhost\" (127.0.0.1), port 5432 failed: Connection refused"),
                             ("redis", 6379, "redis.exceptions.ConnectionError: Error 111 connecting to localhost:6379. Connection refused."),
                             ("mysql", 3306, "java.sql.SQLNonTransientConnectionException: Could not create connection to database server. Attempted reconnect 3 times."),
                             ("kafka", 9092, "org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: describeTopics"),
                             ("elasticsearch", 9200, "ConnectionError: connect ECONNREFUSED 127.0.0.1:9200")])
    tests = [f"tests/integration/test_{v.word()}.py::test_{v.snake()}" for _ in range(v.int(1, 4))]
    lines = [f"{v.pick(['Waiting for', 'Checking', 'Connecting to'])} {svc} on {v.pick(['localhost', '127.0.0.1', svc])}:{port} ({v.int(1, 5)}/{v.int(5, 30)})..."]
    lines += [f"{t} ERROR" for t in tests] + ["", "==================================== ERRORS ====================================",
              f"{'_' * 10} ERROR at setup of {tests[0].split('::')[1]} {'_' * 10}", f"E   {err}"]
    lines += [f"ERROR {t} - {err.split(':')[0]}" for t in tests] + [f"==== {v.int(20, 300)} passed, {len(tests)} error{'s' if len(tests) > 1 else ''} in {v.secs()}s ===="]
    return Case(
        step="Integration tests", command="pytest tests/integration", lines=lines, key_ids=[str(port)],
        causes=[f"The integration tests cannot connect to {svc} on port {port}: the service container is not running or not ready yet.",
                f"{tests[0].split('::')[1]} and {len(tests) - 1} other test(s) error at setup: nothing listens on {svc}'s port {port} (connection refused).",
                f"{svc} was not reachable on port {port} when the integration tests started, so their setup fails."],
        fixes=[f"Declare {svc} as a service container with a health check and port mapping {port}:{port}, and wait for it before the tests start.",
               f"Add {svc} to the job's services with a health check, and make the tests wait until port {port} accepts connections.",
               f"Start {svc} before the tests (service container or docker compose) and gate the test step on its health check for port {port}."],
        runbook=[f"Copy the `{svc}` service block from ci-templates/services.yml; it includes the health check and the CI credentials."],
        summary=f"{svc} connection refused in integration tests", setup="python")


@failure("flaky_gradle_retry", "flaky", "gradle")
def flaky_gradle(v: Vocab, p: Project) -> Case:
    cls = v.camel() + "IT"
    meth = f"{v.verb()}{v.word().capitalize()}Concurrently()"
    lines = [f"{cls} > {meth} FAILED", "    org.awaitility.core.ConditionTimeoutException: Condition was not fulfilled within 10 seconds.",
             f"{cls} > {meth} PASSED", f"{cls} > {meth} FAILED", "    org.awaitility.core.ConditionTimeoutException: Condition was not fulfilled within 10 seconds.",
             "", f"Gradle Test Retry: {cls} > {meth} failed 2 of 3 attempts (flaky; retry limit reached)",
             "> Task :integrationTest FAILED", "", "FAILURE: Build failed with an exception."]
    return Case(
        step="Integration tests", command="./gradlew integrationTest", lines=lines, key_ids=[cls, meth[:-2]],
        causes=[f"{cls}.{meth[:-2]} is flaky: it passed once and failed twice on retry with an awaitility timeout (timing-dependent)."],
        fixes=[f"Quarantine {cls}.{meth[:-2]} and fix the race it waits on (await the actual event instead of a fixed 10 s condition)."],
        runbook=[f"Tag {cls}.{meth[:-2]} with @Flaky and file it on the flaky-test board for the owning team; replace the fixed awaitility wait with an event-driven one."],
        summary=f"Flaky {cls}.{meth[:-2]}", setup="gradle")


@failure("flaky_network_test", "flaky", "go")
def flaky_go(v: Vocab, p: Project) -> Case:
    d = v.go_pkg_dir()
    test = f"Test{v.camel()}_Reconnect"
    lines = [f"=== RUN   {test}", f"    {v.word()}_test.go:{v.line()}: dial tcp 127.0.0.1:{v.int(30000, 60000)}: connect: connection refused",
             f"--- FAIL: {test} (0.{v.int(10, 99)}s)", f"=== RUN   {test} (retry 1/2)", f"--- PASS: {test} (0.{v.int(10, 99)}s)",
             f"gotestsum: 1 test passed after retry; {test} failed again in run 3", f"DONE 3 runs, {v.int(200, 900)} tests, 1 failure in {v.secs()}s"]
    return Case(
        step="Test", command="gotestsum --rerun-fails=2 -- -race ./...", lines=lines, key_ids=[test],
        causes=[f"{test} in {d} is flaky: it fails with connection refused, passes on rerun, then fails again (racing its test server's startup)."],
        fixes=[f"Make {test} wait until its listener is accepting before dialing (use net.Listen's address, not a fixed port) and quarantine it until fixed."],
        runbook=[f"Rewrite {test} to use httptest.NewServer (or testutil.FreePort) instead of a hard-coded port."],
        summary=f"Flaky {test}", setup="go")


@failure("job_cancelled", "unknown", "runner")
def job_cancelled(v: Vocab, p: Project) -> Case:
    lines = [f"{v.pick(['Compiling', 'Running', 'Building'])} {v.word()}...", "##[error]The operation was canceled." if p.system == "github" else "ERROR: Job failed: canceled",
             "Error: The operation was canceled."]
    return Case(
        step="Build", command="make build", lines=lines, key_ids=["canceled"], exit_code=1,
        causes=["The job was canceled (by a user, a newer push in the same concurrency group, or a failing sibling job) rather than failing on its own."],
        fixes=["Check the run's summary for who or what canceled it (concurrency cancel-in-progress or fail-fast in the matrix) and rerun if needed."],
        runbook=["Look at the latest run for this branch: PR pipelines use cancel-in-progress, so a newer push canceled this one."],
        summary="Job canceled", setup="none")


@failure("pytest_exception", "test", "pytest")
def pytest_exception(v: Vocab, p: Project) -> Case:
    tfile, test = v.py_test()
    src = v.py_module_path()
    fn = v.snake()
    ln, tln = v.line(), v.line()
    exc = v.pick([f"AttributeError: 'NoneType' object has no attribute '{v.word()}_id'", f"KeyError: '{v.word()}'",
                  f"TypeError: {fn}() got an unexpected keyword argument '{v.word()}'", f"ValueError: invalid literal for int() with base 10: '{v.int(1, 9)}.5'",
                  f"ZeroDivisionError: division by zero"])
    param = v.pick(["", "", f"[{v.word()}-{v.int(1, 5)}]", "[empty]"])
    lines = [f"collected {v.int(40, 900)} items", "", f"{tfile} ..F.                                      [ {v.int(10, 95)}%]", "",
             "=================================== FAILURES ===================================",
             f"{'_' * 12} {test}{param} {'_' * 12}", "", f"{tfile}:{tln}: in {test}", f"    result = {fn}({v.word()})",
             f"{src}:{ln}: in {fn}", f"    return {v.word()}.{v.word()}_id" if exc.startswith("Attr") else f"    total = {v.word()}[key]",
             f"E   {exc}", "=========================== short test summary info ============================",
             f"FAILED {tfile}::{test}{param} - {exc}", f"==== 1 failed, {v.int(40, 899)} passed, {v.int(0, 9)} skipped in {v.secs()}s ===="]
    name = exc.split(":")[0]
    return Case(
        step="Test", command=v.pick(["pytest -q", "pytest -x -q", "python -m pytest"]), lines=lines, key_ids=[f"{tfile}::{test}", f"{src}:{ln}"],
        causes=[f"{tfile}::{test} fails with {name} raised from {fn} at {src}:{ln}.",
                f"The code under test raises {name} at {src}:{ln}, so {tfile}::{test} fails."],
        fixes=[f"Fix {fn} in {src} (line {ln}) to handle this input, and add a regression assertion to {test}.",
               f"Run `pytest {tfile}::{test}` and fix the {name} at {src}:{ln}."],
        runbook=[f"Fix {src}:{ln}, then run `make test-docker ARGS='{tfile}'` (CI image, seeded test DB) before pushing."],
        summary=f"{name} in {fn} breaks {test}", setup="python")


@failure("junit_exception", "test", "junit")
def junit_exception(v: Vocab, p: Project) -> Case:
    pkg = v.java_package(p.org)
    cls, target = v.camel() + "Test", v.camel()
    meth = f"{v.verb()}{v.word().capitalize()}"
    ln, tln = v.line(), v.line()
    exc = v.pick(["java.lang.NullPointerException: Cannot invoke \"String.length()\" because \"name\" is null",
                  "java.lang.IllegalStateException: Duplicate key " + v.word(), f"java.lang.IndexOutOfBoundsException: Index {v.int(1, 9)} out of bounds for length {v.int(0, 1)}",
                  "java.lang.ClassCastException: class java.lang.Integer cannot be cast to class java.lang.Long"])
    lines = [f"[INFO] Running {pkg}.{cls}",
             f"[ERROR] Tests run: {v.int(2, 30)}, Failures: 0, Errors: 1, Skipped: 0, Time elapsed: {v.secs()} s <<< FAILURE! - in {pkg}.{cls}",
             f"[ERROR] {meth}  Time elapsed: 0.0{v.int(10, 99)} s  <<< ERROR!", exc,
             f"\tat {pkg}.{target}.{v.verb()}({target}.java:{ln})", f"\tat {pkg}.{cls}.{meth}({cls}.java:{tln})", "",
             "[INFO] Results:", "[INFO] ", "[ERROR] Errors: ", f"[ERROR]   {cls}.{meth}:{tln} » {exc.split(':')[0].split('.')[-1]} {exc.split(': ', 1)[1][:40]}",
             f"[ERROR] Tests run: {v.int(50, 900)}, Failures: 0, Errors: 1, Skipped: {v.int(0, 5)}", "[INFO] BUILD FAILURE"]
    name = exc.split(":")[0].split(".")[-1]
    return Case(
        step="Test", command="mvn -B test", lines=lines, key_ids=[f"{cls}.{meth}", f"{target}.java:{ln}"],
        causes=[f"{cls}.{meth} errors with {name} thrown in {target}.java:{ln}.",
                f"The JUnit test {cls}.{meth} fails because {target}.java:{ln} throws {name}."],
        fixes=[f"Fix {target}.java line {ln} to handle the case the test exercises (null/empty input), then rerun `mvn -Dtest={cls}#{meth} test`.",
               f"Handle the edge case in {target}.java:{ln} that throws {name}, then rerun `mvn -Dtest={cls}#{meth} test`."],
        runbook=[f"Fix {target}.java:{ln} and add a unit test for the edge case; reproduce with `./mvnw -Dtest={cls} test`."],
        summary=f"{name} in {target} breaks {cls}.{meth}", setup="maven")


@failure("jest_runtime_error", "test", "jest")
def jest_runtime_error(v: Vocab, p: Project) -> Case:
    src = v.js_path(v.pick(["ts", "tsx"]))
    test_path = src.replace("src/", "src/__tests__/").rsplit(".", 1)[0] + ".test.ts"
    ln, col = v.line(), v.col()
    prop = v.word()
    lines = [f" FAIL  {test_path}", f"  ● {v.camel()} › {v.verb()}s {v.word()}s", "",
             f"    TypeError: Cannot read properties of undefined (reading '{prop}')", "",
             f"      {ln - 1} |   const {v.word()} = props.{v.word()};", f"    > {ln} |   return {v.word()}.{prop}.map(format);",
             "         |                  ^", "", f"      at {v.verb()}{v.word().capitalize()} ({src}:{ln}:{col})",
             f"      at Object.<anonymous> ({test_path}:{v.line()}:{v.col()})", "", f"Tests:       1 failed, {v.int(20, 400)} passed"]
    return Case(
        step="Test", command=v.pick(["npm test -- --ci", "yarn test --ci"]), lines=lines, key_ids=[f"{src}:{ln}", prop],
        causes=[f"A TypeError at {src}:{ln} (reading '{prop}' of undefined) fails {test_path}.",
                f"{src}:{ln} reads '{prop}' of undefined, throwing a TypeError in {test_path}."],
        fixes=[f"Guard the undefined value at {src}:{ln} (optional chaining or a default) or fix the caller that passes it.",
               f"Handle the undefined value at {src}:{ln} (optional chaining or a default), or pass the missing prop from the caller."],
        runbook=[f"Fix {src}:{ln} with optional chaining and a default, and turn on strictNullChecks for that folder to catch the rest."],
        summary=f"TypeError reading '{prop}' in {src}", setup="node")
