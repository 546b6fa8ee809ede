"""Lines that surround a failure in a real log but do not explain it.

Download progress, dependency spam, deprecation warnings and lines that say "error" without being
the cause: an excerpt extractor and a model must learn to look past them.
"""
from __future__ import annotations

from .vocab import Vocab


def _progress(v: Vocab, total_mb: float) -> str:
    done = v.rng.uniform(0.1, 1.0) * total_mb
    return f"{done:.1f}/{total_mb:.1f} MB {v.rng.uniform(1, 60):.1f} MB/s eta 0:00:0{v.int(0, 9)}"


def npm_install(v: Vocab, tool: str = "npm") -> list[str]:
    out = []
    for pkg in v.sample(["inflight@1.0.6", "glob@7.2.3", "rimraf@3.0.2", "uuid@3.4.0", "request@2.88.2",
                         "har-validator@5.1.5", "w3c-hr-time@1.0.2", "abab@2.0.6", "domexception@2.0.1"],
                        v.int(1, 4)):
        out.append(f"npm WARN deprecated {pkg}: This module is not supported, and leaks memory. Do not use it.")
    if tool == "yarn":
        out = [f"yarn install v1.22.{v.int(10, 22)}", "[1/4] Resolving packages...", "[2/4] Fetching packages...",
               f"warning {v.npm_package()} > {v.pick(['chokidar', 'fsevents', 'core-js'])}@{v.version(3)}: "
               "Upgrade to a newer version to avoid errors", "[3/4] Linking dependencies...",
               "[4/4] Building fresh packages...", f"Done in {v.secs()}s."]
        return out
    if tool == "pnpm":
        return [f"Lockfile is up to date, resolution step is skipped",
                f"Progress: resolved {v.int(300, 1500)}, reused {v.int(300, 1500)}, downloaded {v.int(0, 40)}, added {v.int(300, 1500)}, done",
                f"dependencies:", f"+ {v.npm_package()} {v.version()}", f"+ {v.npm_package()} {v.version()}",
                f"Done in {v.secs()}s"]
    added = v.int(200, 1800)
    out.append(f"added {added} packages, and audited {added + 1} packages in {v.int(4, 60)}s")
    out.append(f"{v.int(40, 250)} packages are looking for funding")
    out.append("  run `npm fund` for details")
    if v.chance(0.6):
        out.append(f"{v.int(1, 12)} vulnerabilities ({v.int(0, 5)} moderate, {v.int(0, 4)} high)")
        out.append("To address all issues (including breaking changes), run:")
        out.append("  npm audit fix --force")
    return out


PY_VERSIONS = {"requests": ["2.31.0", "2.32.3", "2.28.2"], "urllib3": ["2.2.1", "1.26.18", "2.0.7"], "idna": ["3.6", "3.7"],
               "certifi": ["2024.2.2", "2023.11.17"], "charset-normalizer": ["3.3.2", "3.1.0"], "pytest": ["8.1.1", "7.4.4", "8.2.0"],
               "pluggy": ["1.4.0", "1.5.0"], "iniconfig": ["2.0.0"], "packaging": ["24.0", "23.2"], "six": ["1.16.0"],
               "python-dateutil": ["2.9.0.post0", "2.8.2"], "attrs": ["23.2.0", "23.1.0"]}


def pip_install(v: Vocab) -> list[str]:
    out = []
    for pkg in v.sample(sorted(PY_VERSIONS), v.int(3, 6)):
        ver = v.pick(PY_VERSIONS[pkg])
        out.append(f"Collecting {pkg}=={ver}")
        if v.chance(0.7):
            size = v.rng.uniform(0.05, 3)
            out.append(f"  Downloading {pkg.replace('-', '_')}-{ver}-py3-none-any.whl ({size:.1f} MB)")
            out.append("     ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ " + _progress(v, size))
    out.append("Installing collected packages: " + ", ".join(v.sample(["idna", "certifi", "urllib3", "pluggy", "six", "attrs"], 4)))
    return out


def maven_downloads(v: Vocab) -> list[str]:
    out = []
    for group, artifact in v.sample(
        [("org/apache/maven/plugins", "maven-surefire-plugin"), ("org/codehaus/plexus", "plexus-utils"),
         ("com/google/errorprone", "error_prone_annotations"), ("org/apache/commons", "commons-parent"),
         ("org/ow2/asm", "asm"), ("org/apache/maven/shared", "maven-shared-utils"),
         ("com/fasterxml/jackson", "jackson-bom"), ("org/junit", "junit-bom")], v.int(3, 7)):
        ver = v.version(3)
        url = f"https://repo.maven.apache.org/maven2/{group}/{artifact}/{ver}/{artifact}-{ver}.pom"
        out.append(f"Downloading from central: {url}")
        out.append(f"Downloaded from central: {url} ({v.rng.uniform(0.5, 30):.1f} kB at {v.int(20, 900)} kB/s)")
    return out


def maven_header(v: Vocab, artifact: str, org: str | None = None, version: str | None = None) -> list[str]:
    return ["[INFO] Scanning for projects...", "[INFO] ",
            f"[INFO] {'-' * 20}< com.{(org or v.org()).replace('-', '')}:{artifact} >{'-' * 20}",
            f"[INFO] Building {artifact} {version or v.version(4)}-SNAPSHOT",
            "[INFO] --------------------------------[ jar ]---------------------------------"]


def gradle_noise(v: Vocab) -> list[str]:
    return [f"Downloading https://services.gradle.org/distributions/gradle-{v.int(7, 8)}.{v.int(0, 9)}-bin.zip",
            "......................10%......................20%......................30%.....",
            "Welcome to Gradle! Here are the highlights of this release:",
            "Starting a Gradle Daemon (subsequent builds will be faster)",
            "> Task :compileJava UP-TO-DATE" if v.chance(0.5) else "> Task :processResources",
            "> Task :classes"]


def go_noise(v: Vocab) -> list[str]:
    return [f"go: downloading {m} v{v.int(0, 1)}.{v.int(0, 30)}.{v.int(0, 9)}" for m in v.sample(
        ["github.com/stretchr/testify", "github.com/davecgh/go-spew", "golang.org/x/sys", "golang.org/x/net",
         "github.com/pkg/errors", "go.uber.org/multierr", "github.com/google/go-cmp"], v.int(2, 5))]


def cargo_noise(v: Vocab) -> list[str]:
    out = ["    Updating crates.io index"]
    for c in v.sample(["libc", "proc-macro2", "quote", "syn", "memchr", "error-chain", "log", "cfg-if",
                       "autocfg", "unicode-ident", "itoa", "ryu"], v.int(3, 7)):
        out.append(f"   Compiling {c} v{v.version(2)}")
    return out


def dotnet_noise(v: Vocab, project: str) -> list[str]:
    return [f"MSBuild version 17.{v.int(3, 9)}.{v.int(0, 9)}+{v.hex(9)} for .NET",
            "  Determining projects to restore...",
            f"  Restored /home/runner/work/{project}/src/{project}/{project}.csproj (in {v.int(200, 3000)} ms)."]


def bundler_noise(v: Vocab) -> list[str]:
    out = ["Fetching gem metadata from https://rubygems.org/........."]
    for g in v.sample(["rake", "concurrent-ruby", "i18n", "minitest", "tzinfo", "zeitwerk", "rack", "thor"], v.int(2, 5)):
        out.append(f"Using {g} {v.version(3)}")
    return out


def docker_noise(v: Vocab, base: str) -> list[str]:
    n = v.int(1, 3)
    return [f"#{n} [internal] load build definition from Dockerfile",
            f"#{n} transferring dockerfile: {v.int(300, 2400)}B done",
            f"#{n} DONE 0.{v.int(0, 9)}s",
            f"#{n + 1} [internal] load metadata for docker.io/library/{base}",
            f"#{n + 1} DONE {v.rng.uniform(0.3, 2.5):.1f}s",
            f"#{n + 2} [internal] load .dockerignore",
            f"#{n + 2} transferring context: 2B done",
            f"#{n + 2} DONE 0.0s"]


def terraform_init(v: Vocab) -> list[str]:
    return ["Initializing the backend...", "", "Initializing provider plugins...",
            f"- Finding hashicorp/aws versions matching \"~> {v.int(4, 5)}.0\"...",
            f"- Installing hashicorp/aws v{v.int(4, 5)}.{v.int(0, 60)}.0...",
            f"- Installed hashicorp/aws v{v.int(4, 5)}.{v.int(0, 60)}.0 (signed by HashiCorp)",
            "", "Terraform has been successfully initialized!"]


_TAGGED = {  # which toolchain prints each misleading line ("*": any)
    "node": (0,), "cargo": (2, 3), "go": (4,), "maven": (5, 7, 13), "gradle": (5, 7, 13), "python": (1, 6, 10, 11, 15),
    "docker": (8, 9), "none": (8, 9, 12, 14),
}


def misleading(v: Vocab, setup: str = "none") -> list[str]:
    """Lines that contain error-ish words but are not the cause, plausible for the toolchain."""
    pool = [
        f"npm WARN deprecated error-ex@1.3.{v.int(0, 2)}: no longer maintained",
        "test_error_handling_returns_400 PASSED",
        f"   Compiling error-chain v0.12.{v.int(1, 4)}",
        "warning: 0 errors, 3 warnings generated.",
        f"ok  	github.com/{v.org()}/{v.repo()}/internal/errors	0.0{v.int(10, 99)}s",
        "[WARNING] Using platform encoding (UTF-8 actually) to copy filtered resources",
        "WARNING: Running pip as the 'root' user can result in broken permissions",
        f"Downloaded from central: https://repo.maven.apache.org/maven2/com/google/errorprone/error_prone_annotations/2.{v.int(10, 25)}.0/error_prone_annotations-2.{v.int(10, 25)}.0.jar",
        "debconf: unable to initialize frontend: Dialog",
        "Warning: Failed to set locale category LC_ALL to en_US.UTF-8.",
        "FutureWarning: The default value of numeric_only will change",
        "Retrying (Retry(total=4, connect=None, read=None)) after connection broken by 'ReadTimeoutError'",
        "hint: Using 'master' as the name for the initial branch.",
        "ErrorProne: 0 issues found",
        "warning: LF will be replaced by CRLF in README.md.",
        "DeprecationWarning: datetime.utcnow() is deprecated",
    ]
    picks = [pool[i] for i in _TAGGED.get(setup, (8, 9, 12, 14))] + [pool[12], pool[14]]
    return v.sample(picks, v.int(1, 3))
