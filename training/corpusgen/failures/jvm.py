"""Maven/Gradle, javac/Kotlin, Surefire/JUnit, Checkstyle and Javadoc failures."""
from __future__ import annotations

from ..case import Case, Project, failure
from ..noise import maven_header
from ..vocab import Vocab

BUILD_FAILURE = ["[INFO] ------------------------------------------------------------------------",
                 "[INFO] BUILD FAILURE",
                 "[INFO] ------------------------------------------------------------------------"]
MVN_HELP = ["[ERROR] ", "[ERROR] To see the full stack trace of the errors, re-run Maven with the -e switch.",
            "[ERROR] Re-run Maven using the -X switch to enable full debug logging."]


def _java_file(v: Vocab, p: Project, test: bool = False) -> tuple[str, str, str]:
    pkg = v.java_package(p.org)
    cls = v.camel() + ("Test" if test else "")
    path = f"src/{'test' if test else 'main'}/java/{pkg.replace('.', '/')}/{cls}.java"
    return pkg, cls, path


@failure("maven_dependency_resolution", "dependency", "maven")
def maven_dependency(v: Vocab, p: Project) -> Case:
    group, art = v.maven()
    ver = v.version(6) + v.pick(["", "", "-SNAPSHOT", ".RELEASE"])
    coord = f"{group}:{art}:jar:{ver}"
    repo_url = v.pick(["https://repo.maven.apache.org/maven2", f"https://nexus.{p.org}.internal/repository/maven-public"])
    own = v.version(3)
    lines = maven_header(v, p.repo, p.org, own) + BUILD_FAILURE + [
        f"[INFO] Total time:  {v.int(5, 90)}.{v.int(100, 999)} s",
        f"[ERROR] Failed to execute goal on project {p.repo}: Could not resolve dependencies for project com.{p.org.replace('-', '')}:{p.repo}:jar:{own}-SNAPSHOT: "
        f"Could not find artifact {coord} in central ({repo_url}) -> [Help 1]"] + MVN_HELP
    return Case(
        step="Build", command="mvn -B verify", lines=lines, key_ids=[f"{group}:{art}"],
        causes=[f"Maven cannot resolve the dependency {coord}: the artifact is not in {repo_url}.",
                f"The build fails because {group}:{art}:{ver} cannot be found in the configured repositories."],
        fixes=[f"Use a published version of {group}:{art} in pom.xml, or add the repository that hosts it (with credentials in settings.xml).",
               f"Correct the {art} version in pom.xml; if it is an internal/SNAPSHOT artifact, publish it first or add its repository."],
        runbook=[f"Internal artifacts resolve only through Nexus: use `-s .mvn/ci-settings.xml`, which reads NEXUS_USER/NEXUS_TOKEN from secrets."],
        summary=f"Maven cannot resolve {group}:{art}:{ver}", setup="maven")


@failure("maven_compilation_error", "compilation", "maven")
def maven_compile(v: Vocab, p: Project) -> Case:
    pkg, cls, path = _java_file(v, p)
    ln, col = v.line(), v.col()
    sym = v.pick([f"method {v.verb()}{v.word().capitalize()}(java.lang.String)", f"class {v.camel()}", f"variable {v.word()}Id"])
    msg = v.pick([f"cannot find symbol", f"incompatible types: java.lang.String cannot be converted to int",
                  f"method does not override or implement a method from a supertype"])
    lines = maven_header(v, p.repo, p.org) + [
        f"[INFO] --- maven-compiler-plugin:3.{v.int(8, 13)}.0:compile (default-compile) @ {p.repo} ---",
        f"[INFO] Compiling {v.int(20, 400)} source files with javac [debug target {v.pick(['11', '17', '21'])}] to target/classes",
        "[INFO] -------------------------------------------------------------", "[ERROR] COMPILATION ERROR : ",
        "[INFO] -------------------------------------------------------------",
        f"[ERROR] {p.root}/{path}:[{ln},{col}] {msg}"]
    if msg == "cannot find symbol":
        lines += [f"  symbol:   {sym}", f"  location: class {pkg}.{cls}"]
    errors = 1
    if v.chance(0.4):  # follow-on errors: other classes that use the broken one
        for _ in range(v.int(1, 3)):
            _, other, other_path = _java_file(v, p)
            lines += [f"[ERROR] {p.root}/{other_path}:[{v.line()},{v.col()}] cannot find symbol", f"  symbol:   class {cls}", f"  location: class {other}"]
            errors += 1
    lines += [f"[INFO] {errors} error{'s' if errors > 1 else ''}", "[INFO] -------------------------------------------------------------"] + BUILD_FAILURE + [
        f"[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.11.0:compile (default-compile) on project {p.repo}: Compilation failure",
        f"[ERROR] {p.root}/{path}:[{ln},{col}] {msg}"] + MVN_HELP
    return Case(
        step="Build", command="mvn -B package", lines=lines, key_ids=[f"{cls}.java"],
        causes=[f"javac fails in {cls}.java at line {ln}: {msg}.", f"Compilation error in {path}:[{ln},{col}] ({msg})."],
        fixes=[f"Fix {cls}.java line {ln} (update the call or import to match the current API) and run `mvn compile` locally.",
               f"Correct the code at {cls}.java:{ln}; a refactor likely renamed or removed what it references."],
        runbook=[f"Fix {cls}.java line {ln} and build with `./mvnw -B -ntp verify -Pci` locally (the ci profile enables -Werror like the pipeline)."],
        summary=f"javac: {msg} in {cls}.java", setup="maven")


@failure("surefire_test_failure", "test", "junit")
def surefire(v: Vocab, p: Project) -> Case:
    pkg, cls, path = _java_file(v, p, test=True)
    meth = f"{v.verb()}{v.word().capitalize()}{v.pick(['ReturnsTotal', 'Rejects', 'WhenEmpty', 'Succeeds', ''])}"
    exp, got = v.int(1, 99), v.int(100, 999)
    ln = v.line()
    lines = maven_header(v, p.repo, p.org) + [
        f"[INFO] --- maven-surefire-plugin:3.{v.int(0, 2)}.{v.int(0, 5)}:test (default-test) @ {p.repo} ---",
        "[INFO] -------------------------------------------------------", "[INFO]  T E S T S",
        "[INFO] -------------------------------------------------------",
        f"[INFO] Running {pkg}.{v.camel()}Test", f"[INFO] Tests run: {v.int(3, 20)}, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: {v.secs()} s",
        f"[INFO] Running {pkg}.{cls}",
        f"[ERROR] Tests run: {v.int(2, 15)}, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: {v.secs()} s <<< FAILURE! - in {pkg}.{cls}",
        f"[ERROR] {meth}({pkg}.{cls})  Time elapsed: 0.{v.int(10, 999)} s  <<< FAILURE!",
        f"org.opentest4j.AssertionFailedError: expected: <{exp}> but was: <{got}>",
        f"\tat {pkg}.{cls}.{meth}({cls}.java:{ln})", "", "[INFO] ", "[INFO] Results:", "[INFO] ",
        "[ERROR] Failures: ", f"[ERROR]   {cls}.{meth}:{ln} expected: <{exp}> but was: <{got}>", "[INFO] ",
        f"[ERROR] Tests run: {v.int(50, 900)}, Failures: 1, Errors: 0, Skipped: {v.int(0, 5)}"] + BUILD_FAILURE + [
        f"[ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:3.2.5:test (default-test) on project {p.repo}: There are test failures."]
    return Case(
        step="Test", command="mvn -B test", lines=lines, key_ids=[f"{cls}.{meth}"],
        causes=[f"The JUnit test {cls}.{meth} fails at {cls}.java:{ln}: expected <{exp}> but was <{got}>.",
                f"Surefire reports a failure in {cls}.{meth}: assertion expected {exp}, got {got}."],
        fixes=[f"Run `mvn -Dtest={cls}#{meth} test` locally and fix the code or the expectation.",
               f"Reproduce {cls}.{meth} with `./mvnw -Dtest={cls} test` and check the latest change to the class under test."],
        runbook=[f"Check the `surefire-reports` artifact for the full trace, then fix {cls}.{meth} and rerun with `./mvnw -Dtest={cls} test`."],
        summary=f"JUnit failure {cls}.{meth}", setup="maven")


@failure("checkstyle_violation", "lint", "maven")
def checkstyle(v: Vocab, p: Project) -> Case:
    pkg, cls, path = _java_file(v, p)
    rule, msg = v.pick([("UnusedImports", f"Unused import - java.util.{v.pick(['List', 'Map', 'Optional'])}."),
                        ("LineLength", "Line is longer than 120 characters (found 134)."),
                        ("MissingJavadocMethod", "Missing a Javadoc comment."),
                        ("NeedBraces", "'if' construct must use '{}'s."),
                        ("WhitespaceAround", "'=' is not preceded with whitespace.")])
    ln, col = v.line(), v.col()
    lines = maven_header(v, p.repo, p.org) + [
        f"[INFO] --- maven-checkstyle-plugin:3.3.{v.int(0, 1)}:check (validate) @ {p.repo} ---",
        "[INFO] There is 1 error reported by Checkstyle 10.12.4 with checkstyle.xml ruleset.",
        f"[ERROR] {path}:[{ln},{col}] ({rule.lower()}) {rule}: {msg}"] + BUILD_FAILURE + [
        f"[ERROR] Failed to execute goal org.apache.maven.plugins:maven-checkstyle-plugin:3.3.1:check (validate) on project {p.repo}: You have 1 Checkstyle violation. -> [Help 1]"]
    return Case(
        step="Build", command="mvn -B verify", lines=lines, key_ids=[f"{cls}.java", rule],
        causes=[f"Checkstyle fails the build: {cls}.java line {ln} violates {rule}.", f"A {rule} Checkstyle violation in {cls}.java:{ln} stops mvn verify."],
        fixes=[f"Fix the {rule} violation at {cls}.java:{ln} ({msg}) and run `mvn checkstyle:check` locally.",
               f"Apply the {rule} rule at {cls}.java:{ln}, then run `mvn -B checkstyle:check` before pushing."],
        runbook=[f"Run `./mvnw spotless:apply` to fix the {rule} violation in {cls}.java and commit; import config/checkstyle.xml into the IDE formatter."],
        summary=f"Checkstyle {rule} in {cls}.java", setup="maven")


@failure("gradle_dependency_resolution", "dependency", "gradle")
def gradle_dep(v: Vocab, p: Project) -> Case:
    group, art = v.maven()
    ver = v.version(6)
    conf = v.pick(["compileClasspath", "runtimeClasspath", "testCompileClasspath"])
    lines = ["> Task :compileJava FAILED", "", "FAILURE: Build failed with an exception.", "", "* What went wrong:",
             f"Execution failed for task ':compileJava'.", f"> Could not resolve all files for configuration ':{conf}'.",
             f"   > Could not find {group}:{art}:{ver}.", "     Searched in the following locations:",
             f"       - https://repo.maven.apache.org/maven2/{group.replace('.', '/')}/{art}/{ver}/{art}-{ver}.pom",
             f"     Required by:", f"         project :", "", "* Try:",
             "> Run with --stacktrace option to get the stack trace.", "", "BUILD FAILED in " + f"{v.int(8, 120)}s"]
    return Case(
        step="Build", command="./gradlew build", lines=lines, key_ids=[f"{group}:{art}:{ver}"],
        causes=[f"Gradle cannot resolve {group}:{art}:{ver} for {conf}: it is not in the declared repositories.",
                f"The dependency {group}:{art}:{ver} does not exist in Maven Central, so :compileJava fails."],
        fixes=[f"Fix the version of {art} in build.gradle(.kts) or the version catalog, or add the repository that publishes it."],
        runbook=["Internal artifacts come from the Artifactory `libs-release` repo configured in settings.gradle; set ORG_GRADLE_PROJECT_artifactoryToken in CI."],
        summary=f"Gradle cannot resolve {group}:{art}:{ver}", setup="gradle")


@failure("kotlin_compilation_error", "compilation", "gradle")
def kotlin_compile(v: Vocab, p: Project) -> Case:
    path = f"src/main/kotlin/{v.java_package(p.org).replace('.', '/')}/{v.camel()}.kt"
    ln, col = v.line(), v.col()
    ref = v.pick([f"{v.verb()}{v.word().capitalize()}", f"{v.word()}Repository"])
    msg = v.pick([f"Unresolved reference: {ref}", "Type mismatch: inferred type is String? but String was expected",
                  f"No value passed for parameter '{v.word()}'"])
    lines = ["> Task :compileKotlin FAILED", f"e: file://{p.root}/{path}:{ln}:{col} {msg}", "",
             "FAILURE: Build failed with an exception.", "", "* What went wrong:",
             "Execution failed for task ':compileKotlin'.", "> A failure occurred while executing org.jetbrains.kotlin.compilerRunner.GradleCompilerRunnerWithWorkers$GradleKotlinCompilerWorkAction",
             "   > Compilation error. See log for more details", "", f"BUILD FAILED in {v.int(20, 200)}s"]
    return Case(
        step="Build", command="./gradlew assemble", lines=lines, key_ids=[path.rsplit("/", 1)[1]],
        causes=[f"Kotlin compilation fails in {path.rsplit('/', 1)[1]} at line {ln}: {msg}.",
                f"compileKotlin fails: {path.rsplit('/', 1)[1]}:{ln} has {msg}."],
        fixes=[f"Fix line {ln} of {path.rsplit('/', 1)[1]} to match the current API and run `./gradlew compileKotlin` locally.",
               f"Correct {path.rsplit('/', 1)[1]} line {ln} and rerun `./gradlew compileKotlin`."],
        runbook=[f"Fix {path.rsplit('/', 1)[1]}:{ln} and run `./gradlew check --offline` (shared build cache) to confirm before pushing."],
        summary=f"Kotlin compile error in {path.rsplit('/', 1)[1]}", setup="gradle")


@failure("gradle_test_failure", "test", "gradle")
def gradle_test(v: Vocab, p: Project) -> Case:
    pkg = v.java_package(p.org)
    cls = v.camel() + "Test"
    meth = f"{v.verb()}{v.word().capitalize()}()"
    ln = v.line()
    lines = ["> Task :test", "", f"{cls} > {meth} FAILED",
             f"    java.lang.AssertionError: expected:<{v.int(1, 50)}> but was:<{v.int(51, 99)}>",
             f"        at {pkg}.{cls}.{meth[:-2]}({cls}.java:{ln})", "",
             f"{v.int(30, 600)} tests completed, 1 failed", "", "> Task :test FAILED", "", "FAILURE: Build failed with an exception.", "",
             "* What went wrong:", "Execution failed for task ':test'.", "> There were failing tests. See the report at: "
             f"file://{p.root}/build/reports/tests/test/index.html", "", f"BUILD FAILED in {v.int(30, 400)}s"]
    return Case(
        step="Test", command="./gradlew test", lines=lines, key_ids=[cls, meth[:-2]],
        causes=[f"The test {cls} > {meth} fails with an AssertionError at {cls}.java:{ln}.",
                f"{cls} > {meth} FAILED: AssertionError at {cls}.java:{ln}."],
        fixes=[f"Run `./gradlew test --tests '{pkg}.{cls}'` locally and fix the regression or the expectation.",
               f"Reproduce with `./gradlew test --tests '*{cls}'` and fix the regression at {cls}.java:{ln}."],
        runbook=[f"Read the `test-report` artifact for the full trace, then fix {cls}.{meth[:-2]} with `./gradlew test --tests {cls}` locally."],
        summary=f"Gradle test {cls}.{meth[:-2]} failed", setup="gradle")


@failure("javadoc_error", "docs", "maven")
def javadoc(v: Vocab, p: Project) -> Case:
    pkg, cls, path = _java_file(v, p)
    ln = v.line()
    msg = v.pick([f"error: @param name not found", "error: malformed HTML", "error: bad use of '>'",
                  f"error: reference not found", "error: unknown tag: apiNote"])
    lines = maven_header(v, p.repo, p.org) + [f"[INFO] --- maven-javadoc-plugin:3.6.{v.int(0, 3)}:jar (attach-javadocs) @ {p.repo} ---",
                                      f"[ERROR] {p.root}/{path}:{ln}: {msg}",
                                      f"[ERROR]    * @param {v.word()} the {v.word()}", "[ERROR]      ^"] + BUILD_FAILURE + [
        f"[ERROR] Failed to execute goal org.apache.maven.plugins:maven-javadoc-plugin:3.6.3:jar (attach-javadocs) on project {p.repo}: MavenReportException: Error while generating Javadoc:"]
    return Case(
        step="Build", command="mvn -B deploy -DskipTests", lines=lines, key_ids=[f"{cls}.java"],
        causes=[f"maven-javadoc-plugin fails on a Javadoc {msg} in {cls}.java at line {ln}.",
                f"Javadoc generation fails on {cls}.java:{ln} ({msg})."],
        fixes=[f"Fix the Javadoc comment at {cls}.java:{ln} (correct the @param name / escape HTML) and run `mvn javadoc:javadoc` locally.",
               f"Correct the Javadoc comment in {cls}.java at line {ln} and check it with `mvn javadoc:javadoc`."],
        runbook=[f"Fix the Javadoc in {cls}.java and run `./mvnw -Prelease javadoc:jar` before tagging (release builds run doclint)."],
        summary=f"Javadoc error in {cls}.java", setup="maven")


@failure("java_version_mismatch", "configuration", "maven")
def java_version(v: Vocab, p: Project) -> Case:
    want, have = v.pick([("17", "11"), ("21", "17"), ("11", "1.8"), ("21", "11")])
    classv = {"17": "61.0", "21": "65.0", "11": "55.0"}[want]
    if v.chance(0.5):
        lines = maven_header(v, p.repo, p.org) + BUILD_FAILURE + [
            f"[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.11.0:compile (default-compile) on project {p.repo}: Fatal error compiling: error: invalid target release: {want} -> [Help 1]"]
        key = f"invalid target release: {want}"
    else:
        lines = ["FAILURE: Build failed with an exception.", "", "* What went wrong:",
                 f"A problem occurred configuring root project '{p.repo}'.",
                 f"> Could not resolve com.{p.org.replace('-', '')}:build-logic:{v.version(2)}.",
                 f"   > class file has wrong version {classv}, should be {'52.0' if have == '1.8' else {'11': '55.0', '17': '61.0'}[have]}"]
        key = classv
    full = "1.8.0_402" if have == "1.8" else f"{have}.0.{v.int(12, 22)}"
    lines = ["+ java -version", f"openjdk version \"{full}\" 2024-01-16", f"OpenJDK Runtime Environment Temurin-{full} (build {full})"] + lines
    return Case(
        step="Build", command="mvn -B verify" if key.startswith("invalid") else "./gradlew build", lines=lines, key_ids=[key],
        causes=[f"The job runs JDK {have} but the project targets Java {want} ({key})."],
        fixes=[f"Set up JDK {want} in the job (actions/setup-java with java-version: '{want}') or lower the target release."],
        runbook=[f"Use the `temurin-{want}` runner image; the toolchains.xml in .mvn pins JDK {want} for all modules."],
        summary=f"JDK {have} used for Java {want} build", setup="preset")
