"""Compose a CI job around a failure: checkout, toolchain setup, dependency install, the failing step.

Setup steps have two faces: a GitHub Actions `uses:` step, and the shell command other CI systems
run in their job image (`node --version`, `java -version`, ...). Renderers pick the one that fits.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import noise
from .case import Case, Project
from .vocab import Vocab

# Toolchains a job without its own (runner failures, shell config errors) may have been building.
PRELUDES = ("node", "python", "maven", "go", "dotnet", "ruby", "gradle", "cargo")
IMAGES = {"node": ["node:20", "node:18-bullseye", "node:22-alpine"], "python": ["python:3.11", "python:3.12-slim"],
          "maven": ["maven:3.9-eclipse-temurin-17", "maven:3.9-eclipse-temurin-21"], "gradle": ["gradle:8.7-jdk17"],
          "go": ["golang:1.22", "golang:1.21-bookworm"], "cargo": ["rust:1.77"], "dotnet": ["mcr.microsoft.com/dotnet/sdk:8.0"],
          "ruby": ["ruby:3.2", "ruby:3.3-slim"], "docker": ["docker:24-dind", "docker:26"], "terraform": ["hashicorp/terraform:1.7"],
          "kubectl": ["bitnami/kubectl:1.29"], "none": ["ubuntu:22.04", "alpine:3.19"]}


@dataclass
class Step:
    name: str
    command: str | None
    lines: list[str]
    exit_code: int = 0
    shell: str | None = None  # what a non-GitHub system runs instead of an action; None: skip there
    shell_lines: list[str] | None = None  # what that shell command prints (None: same as `lines`)
    boilerplate: bool = False  # checkout, which every system prints its own way
    soft_fail: bool = False  # failed but allowed to (continue-on-error): a red herring before the real failure


def _toolchain(v: Vocab, s: str) -> Step | None:
    if s == "node":
        nv = f"{v.pick(['18', '20', '22'])}.{v.int(0, 19)}.{v.int(0, 9)}"
        npm = f"{v.int(9, 10)}.{v.int(0, 9)}.{v.int(0, 9)}"
        return Step("Set up Node.js", f"actions/setup-node@v4 (node-version: {nv.split('.')[0]})",
                    [f"Found in cache @ /opt/hostedtoolcache/node/{nv}/x64", "Environment details", f"  node: v{nv}", f"  npm: {npm}"],
                    shell="node --version && npm --version", shell_lines=[f"v{nv}", npm])
    if s == "python":
        pv = f"{v.pick(['3.10', '3.11', '3.12'])}.{v.int(0, 9)}"
        return Step("Set up Python", f"actions/setup-python@v5 (python-version: {pv.rsplit('.', 1)[0]})",
                    [f"Successfully set up CPython ({pv})"], shell="python --version", shell_lines=[f"Python {pv}"])
    if s in ("maven", "gradle"):
        jv = v.pick(["17", "21", "11"])
        full = f"{jv}.0.{v.int(1, 12)}+{v.int(1, 12)}"
        return Step("Set up JDK", f"actions/setup-java@v4 (distribution: temurin, java-version: {jv})",
                    [f"openjdk version \"{full.split('+')[0]}\" 2024-0{v.int(1, 9)}-16", f"OpenJDK Runtime Environment Temurin-{full} (build {full})",
                     f"OpenJDK 64-Bit Server VM Temurin-{full} (build {full}, mixed mode, sharing)"], shell="java -version")
    if s == "go":
        gv = f"go1.{v.int(20, 23)}.{v.int(0, 9)}"
        return Step("Set up Go", "actions/setup-go@v5", [f"Found in cache @ /opt/hostedtoolcache/go/{gv[2:]}/x64", f"go version {gv} linux/amd64"],
                    shell="go version", shell_lines=[f"go version {gv} linux/amd64"])
    if s == "cargo":
        return Step("Install Rust toolchain", "dtolnay/rust-toolchain@stable",
                    [f"rustc 1.{v.int(70, 80)}.0 ({v.hex(9)} 2024-0{v.int(1, 9)}-1{v.int(0, 9)})", f"cargo 1.{v.int(70, 80)}.0 ({v.hex(9)} 2024-0{v.int(1, 9)}-0{v.int(1, 9)})"],
                    shell="rustc --version && cargo --version")
    if s == "dotnet":
        dv = f"{v.int(6, 8)}.0.{v.int(100, 400)}"
        return Step("Setup .NET", "actions/setup-dotnet@v4", [f"dotnet-install: Installed version is {dv}.", f"dotnet-install: Adding to current process PATH."],
                    shell="dotnet --version", shell_lines=[dv])
    if s == "ruby":
        return Step("Set up Ruby", "ruby/setup-ruby@v1", [f"ruby 3.{v.int(1, 3)}.{v.int(0, 4)} (2024-0{v.int(1, 9)}-23 revision {v.hex(10)}) [x86_64-linux]"], shell="ruby -v")
    if s == "docker":
        return Step("Set up Docker Buildx", "docker/setup-buildx-action@v3",
                    ["Docker info", f"  Server Version: {v.int(24, 27)}.0.{v.int(0, 9)}", "  Storage Driver: overlay2"], shell="docker version --format '{{.Server.Version}}'")
    if s == "terraform":
        return Step("Setup Terraform", "hashicorp/setup-terraform@v3", [f"Terraform v1.{v.int(5, 9)}.{v.int(0, 5)}", "on linux_amd64"], shell="terraform version")
    if s == "kubectl":
        return Step("Set up kubectl", "azure/setup-kubectl@v4", [f"Client Version: v1.{v.int(26, 30)}.{v.int(0, 9)}", "Kustomize Version: v5.0.4"],
                    shell="kubectl version --client")
    return None


def _install(v: Vocab, s: str, p: Project) -> Step | None:
    if s == "node":
        tool = v.pick(["npm", "npm", "yarn", "pnpm"])
        cmd = {"npm": "npm ci", "yarn": "yarn install --frozen-lockfile", "pnpm": "pnpm install --frozen-lockfile"}[tool]
        return Step("Install dependencies", cmd, noise.npm_install(v, tool), shell=cmd)
    if s == "python":
        cmd = v.pick(["pip install -r requirements.txt", "pip install -e '.[test]'", "poetry install --no-interaction"])
        return Step("Install dependencies", cmd, noise.pip_install(v) + [f"Successfully installed {v.int(20, 90)} packages"], shell=cmd)
    if s == "dotnet":
        return Step("Restore", "dotnet restore", noise.dotnet_noise(v, p.repo), shell="dotnet restore")
    if s == "ruby":
        return Step("Install gems", "bundle install --jobs 4", noise.bundler_noise(v) + [f"Bundle complete! {v.int(20, 90)} Gemfile dependencies, {v.int(90, 300)} gems now installed."],
                    shell="bundle install --jobs 4")
    if s == "terraform":
        return Step("Terraform init", "terraform init -input=false", noise.terraform_init(v), shell="terraform init -input=false")
    return None


def _tool_noise(v: Vocab, s: str, noisy: float, image: str | None = None) -> list[str]:
    """Output the failing tool itself prints before the failure (downloads, compiles)."""
    if s == "maven":
        return noise.maven_downloads(v) if noisy > 0.3 else []
    if s == "gradle":
        return noise.gradle_noise(v)
    if s == "go":
        return noise.go_noise(v)
    if s == "cargo":
        return noise.cargo_noise(v)
    if s == "docker":
        return noise.docker_noise(v, image or v.pick(["python:3.11-slim", "node:20-alpine", "golang:1.22"]))
    return []


def _soft_failure(v: Vocab, p: Project) -> Step:
    """A step that fails but is allowed to (continue-on-error), so its errors are not the cause."""
    name, cmd, lines = v.pick([
        ("Audit dependencies", "npm audit --audit-level=high",
         [f"# npm audit report", "", f"{v.pick(['semver', 'axios', 'braces', 'ws'])}  <{v.version(3)}", "Severity: high",
          f"{v.int(2, 9)} high severity vulnerabilities", "", "To address all issues, run:", "  npm audit fix"]),
        ("Upload coverage", "codecov/codecov-action@v4",
         ["[error] There was an error running the uploader: Error uploading to https://codecov.io: Error: There was an error fetching the storage URL during POST: 429 - Rate limit reached"]),
        ("Check licenses", "./scripts/check-licenses.sh",
         [f"error: package {v.npm_package()}@{v.version(4)} has license UNKNOWN (not on the allow list)"]),
        ("Lint (advisory)", "npm run lint -- --max-warnings=0",
         [f"{p.root}/src/{v.word()}.js", f"  {v.line()}:{v.col()}  error  Unexpected console statement  no-console", "", "✖ 1 problem (1 error, 0 warnings)"]),
    ])
    return Step(name, cmd, lines, exit_code=1, shell=None if "@" in cmd else cmd, soft_fail=True)


def build_job(v: Vocab, case: Case, p: Project, noisy: float = 0.5) -> list[Step]:
    sha = v.hex(40)
    checkout = Step("Checkout", "actions/checkout@v4",
                    [f"Syncing repository: {p.org}/{p.repo}", "Getting Git version info", f"git version 2.{v.int(39, 45)}.{v.int(0, 3)}",
                     f"HEAD is now at {sha[:7]} {v.pick(['Fix', 'Add', 'Bump', 'Refactor', 'Update', 'Merge pull request #' + str(v.int(100, 4000)) + ' from'])} {v.word()} {v.verb()}"],
                    boilerplate=True)
    bare = case.type.startswith("git_") or case.step == "Set up job"
    steps = [] if bare else [checkout]
    setup = case.setup
    if setup == "none" and not bare and v.chance(0.75):  # "preset": the case prints its own toolchain
        setup = v.pick(PRELUDES)
    tool = _toolchain(v, setup)
    if tool:
        steps.append(tool)
    installing = case.step.lower().startswith(("install", "restore", "terraform init"))
    inst = None if installing else _install(v, setup, p)
    if inst:
        steps.append(inst)
    if noisy > 0.4 and case.category != "configuration" and steps:
        # Misleading "error" lines sit in earlier, successful steps.
        steps[-1].lines = steps[-1].lines + noise.misleading(v, setup)
    if p.system == "github" and not bare and v.chance(0.08):
        steps.append(_soft_failure(v, p))
    lines = list(case.lines)
    if case.setup == setup:  # a prelude toolchain's own noise would not belong to this failing tool
        extra = _tool_noise(v, setup, noisy, case.image)
        # Maven prints its project header first and downloads plugins and dependencies after it.
        at = 5 if lines and lines[0].startswith("[INFO] Scanning for projects") else 0
        lines = lines[:at] + extra + lines[at:]
    steps.append(Step(case.step, case.command, lines, case.exit_code, shell=case.command))
    return steps


def job_image(v: Vocab, case: Case) -> str:
    return v.pick(IMAGES.get(case.setup, IMAGES["none"]))
