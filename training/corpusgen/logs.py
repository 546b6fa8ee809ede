"""Render a failure case as a whole CI job log in the style of one CI system.

A job is a list of steps (checkout, toolchain setup, dependency install, the failing step, cleanup);
each system frames them its own way: GitHub Actions (timestamps, ##[group]/##[error]), GitLab
(section markers), Jenkins ([Pipeline] stages), Travis (travis_fold), CircleCI (step banners).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from . import noise
from .case import Case, Project
from .vocab import Vocab

SYSTEMS = ("github", "gitlab", "jenkins", "travis", "circleci")
SYSTEM_TITLES = {"github": "GitHub Actions", "gitlab": "GitLab CI", "jenkins": "Jenkins", "travis": "Travis CI", "circleci": "CircleCI"}


@dataclass
class Step:
    name: str
    command: str | None
    lines: list[str]
    exit_code: int = 0


def _setup_steps(v: Vocab, case: Case, p: Project, noisy: float) -> list[Step]:
    """Toolchain setup and dependency install that ran (successfully) before the failure."""
    s = case.setup
    installing = case.step.lower().startswith(("install", "restore"))
    steps: list[Step] = []
    if s == "node":
        nv = v.pick(["18", "20", "22"])
        steps.append(Step("Set up Node.js", f"actions/setup-node@v4 (node-version: {nv})",
                          [f"Found in cache @ /opt/hostedtoolcache/node/{nv}.{v.int(0, 19)}.{v.int(0, 9)}/x64",
                           f"Environment details", f"  node: v{nv}.{v.int(0, 19)}.{v.int(0, 9)}", f"  npm: {v.int(9, 10)}.{v.int(0, 9)}.{v.int(0, 9)}"]))
        if not installing:
            steps.append(Step("Install dependencies", v.pick(["npm ci", "yarn install --frozen-lockfile", "pnpm install"]),
                              noise.npm_install(v, v.pick(["npm", "yarn", "pnpm"]))))
    elif s == "python":
        pv = v.pick(["3.10", "3.11", "3.12"])
        steps.append(Step("Set up Python", f"actions/setup-python@v5 (python-version: {pv})",
                          [f"Successfully set up CPython ({pv}.{v.int(0, 9)})"]))
        if not installing:
            steps.append(Step("Install dependencies", "pip install -r requirements.txt",
                              noise.pip_install(v) + [f"Successfully installed {v.int(20, 90)} packages"]))
    elif s in ("maven", "gradle"):
        jv = v.pick(["17", "21", "11"])
        steps.append(Step("Set up JDK", f"actions/setup-java@v4 (distribution: temurin, java-version: {jv})",
                          [f"Java {jv}.0.{v.int(1, 12)}+{v.int(1, 12)} was downloaded", "Creating settings.xml with server-id: github"]))
        if s == "maven":
            case.lines = noise.maven_downloads(v) + case.lines if noisy > 0.3 else case.lines
        else:
            case.lines = noise.gradle_noise(v) + case.lines
    elif s == "go":
        steps.append(Step("Set up Go", "actions/setup-go@v5", [f"go version go1.{v.int(20, 23)}.{v.int(0, 9)} linux/amd64"]))
        case.lines = noise.go_noise(v) + case.lines
    elif s == "cargo":
        steps.append(Step("Install Rust toolchain", "dtolnay/rust-toolchain@stable",
                          [f"info: default toolchain set to 'stable-x86_64-unknown-linux-gnu'", f"rustc 1.{v.int(70, 80)}.0 ({v.hex(9)} 2024-0{v.int(1, 9)}-1{v.int(0, 9)})"]))
        case.lines = noise.cargo_noise(v) + case.lines
    elif s == "dotnet":
        steps.append(Step("Setup .NET", "actions/setup-dotnet@v4", [f"dotnet-install: Installed version is {v.int(6, 8)}.0.{v.int(100, 400)}"]))
        if not installing:
            steps.append(Step("Restore", "dotnet restore", noise.dotnet_noise(v, p.repo)))
    elif s == "ruby":
        steps.append(Step("Set up Ruby", "ruby/setup-ruby@v1 (bundler-cache: true)",
                          noise.bundler_noise(v) if not installing else [f"Using Ruby 3.{v.int(1, 3)}.{v.int(0, 4)}"]))
    elif s == "docker":
        steps.append(Step("Set up Docker Buildx", "docker/setup-buildx-action@v3",
                          [f"Docker info", f"  Server Version: {v.int(24, 27)}.0.{v.int(0, 9)}", "  Storage Driver: overlay2"]))
        case.lines = noise.docker_noise(v, v.pick(["python:3.11-slim", "node:20-alpine", "golang:1.22"])) + case.lines
    elif s == "terraform":
        steps.append(Step("Setup Terraform", "hashicorp/setup-terraform@v3", [f"Terraform v1.{v.int(5, 9)}.{v.int(0, 5)}"]))
        steps.append(Step("Terraform init", "terraform init -input=false", noise.terraform_init(v)))
    elif s == "kubectl":
        steps.append(Step("Set up kubectl", "azure/setup-kubectl@v4", [f"Client Version: v1.{v.int(26, 30)}.{v.int(0, 9)}"]))
    return steps


def build_job(v: Vocab, case: Case, p: Project, noisy: float = 0.5) -> list[Step]:
    sha = v.hex(40)
    checkout = Step("Checkout", "actions/checkout@v4",
                    ["Syncing repository: " + f"{p.org}/{p.repo}", "Getting Git version info",
                     f"git version 2.{v.int(39, 45)}.{v.int(0, 3)}", f"HEAD is now at {sha[:7]} {v.pick(['Fix', 'Add', 'Bump', 'Refactor', 'Update'])} {v.word()} {v.verb()}"])
    steps = [] if case.type.startswith("git_") or case.step == "Set up job" else [checkout]
    steps += _setup_steps(v, case, p, noisy)
    if noisy > 0.4 and case.category not in ("configuration",):
        # Misleading "error" lines sit in earlier, successful steps.
        target = steps[-1] if steps else None
        if target is not None:
            target.lines = target.lines + noise.misleading(v)
    steps.append(Step(case.step, case.command, list(case.lines), case.exit_code))
    return steps


class _Clock:
    def __init__(self, v: Vocab):
        self.t = datetime(2024, v.int(1, 12), v.int(1, 28), v.int(0, 23), v.int(0, 59), v.int(0, 59), v.int(0, 999999))
        self.v = v

    def tick(self) -> str:
        self.t += timedelta(milliseconds=self.v.int(1, 900))
        return self.t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def render_github(v: Vocab, steps: list[Step], p: Project) -> list[str]:
    out = [f"Current runner version: '2.3{v.int(10, 20)}.{v.int(0, 3)}'", "Operating System", "  Ubuntu", f"  22.04.{v.int(1, 4)}", "  LTS",
           f"Runner Image", f"  Image: ubuntu-22.04", f"  Version: 2024{v.int(1, 12):02d}{v.int(1, 28):02d}.1.0",
           "GITHUB_TOKEN Permissions", "  Contents: read", "  Metadata: read", f"Secret source: Actions"]
    if steps[-1].command == "(workflow parse)":  # an invalid workflow never starts a job
        return list(steps[-1].lines)
    for st in steps:
        if st.name == "Set up job":  # the runner's own preparation: no ##[group]Run banner
            out.extend(st.lines)
            out.append("##[error]" + st.lines[-1].removeprefix("Error: "))
            break
        out.append(f"##[group]Run {st.command or st.name}")
        out.append(f"{st.command or st.name}")
        if st.command and not st.command.startswith(("actions/", "docker/", "hashicorp/", "azure/", "dtolnay/", "ruby/", "uses:")):
            out.append("shell: /usr/bin/bash -e {0}")
        out.append("##[endgroup]")
        out.extend(st.lines)
        if st.exit_code:
            out.append(f"##[error]Process completed with exit code {st.exit_code}.")
            break
    out += ["Post job cleanup.", "[command]/usr/bin/git version", f"git version 2.{v.int(39, 45)}.{v.int(0, 3)}",
            "Cleaning up orphan processes"]
    stamped = v.chance(0.7)
    clock = _Clock(v)
    # Error lines printed by the runner itself use ##[error]; tool output lines are left as printed.
    return [f"{clock.tick()} {line}" for line in out] if stamped else out


def _is_action(step: Step) -> bool:
    """A GitHub Actions `uses:` step; other CI systems get their toolchain from the job image."""
    cmd = step.command or ""
    return "@v" in cmd.split(" ")[0] or cmd.startswith(("actions/", "uses:"))


def render_gitlab(v: Vocab, steps: list[Step], p: Project) -> list[str]:
    ansi = v.chance(0.6)
    ts = v.int(1700000000, 1730000000)

    def section(name: str, start: bool) -> str:
        return f"section_{'start' if start else 'end'}:{ts}:{name}\r\x1b[0K" if ansi else ""

    out = [f"Running with gitlab-runner 16.{v.int(0, 11)}.{v.int(0, 3)} ({v.hex(8)})", f"  on {v.pick(['docker-runner', 'k8s-runner', 'shared-runner'])}-{v.int(1, 9)} {v.alnum(8)}, system ID: s_{v.hex(12)}",
           section("prepare_executor", True) + "Preparing the \"docker\" executor",
           f"Using docker image sha256:{v.hex(64)} for {v.pick(['python:3.11', 'node:20', 'maven:3.9-eclipse-temurin-17', 'golang:1.22', 'ruby:3.2'])} ...",
           section("prepare_executor", False), section("get_sources", True) + "Getting source from Git repository",
           f"Fetching changes with git depth set to 20...", f"Checking out {v.hex(8)} as detached HEAD (ref is main)...", section("get_sources", False),
           section("step_script", True) + "Executing \"step_script\" stage of the job script"]
    for st in steps:
        if (st.name == "Checkout" or _is_action(st)) and not st.exit_code:
            continue
        out.append(f"$ {st.command or st.name}")
        out.extend(st.lines)
        if st.exit_code:
            break
    code = next((s.exit_code for s in steps if s.exit_code), 1)
    out += [section("step_script", False), section("cleanup_file_variables", True) + "Cleaning up project directory and file based variables",
            section("cleanup_file_variables", False), f"ERROR: Job failed: exit code {code}"]
    return [line for line in out if line != ""]


def render_jenkins(v: Vocab, steps: list[Step], p: Project) -> list[str]:
    out = [f"Started by {v.pick(['user admin', 'GitHub push by ' + v.word(), 'an SCM change', 'timer'])}", "Obtained Jenkinsfile from git " + f"https://github.com/{p.org}/{p.repo}.git",
           "[Pipeline] Start of Pipeline", f"[Pipeline] node", f"Running on {v.pick(['agent', 'linux', 'build'])}-{v.int(1, 20)} in {p.root}",
           "[Pipeline] {", "[Pipeline] stage", "[Pipeline] { (Declarative: Checkout SCM)", "[Pipeline] checkout",
           f"Checking out Revision {v.hex(40)} (refs/remotes/origin/main)", "[Pipeline] }"]
    for st in steps:
        if (st.name == "Checkout" or _is_action(st)) and not st.exit_code:
            continue
        out += ["[Pipeline] stage", f"[Pipeline] {{ ({st.name})", "[Pipeline] sh", f"+ {st.command or st.name}"]
        out.extend(st.lines)
        if st.exit_code:
            out += ["[Pipeline] }", "[Pipeline] // stage", "[Pipeline] }", "[Pipeline] // node", "[Pipeline] End of Pipeline",
                    f"ERROR: script returned exit code {st.exit_code}", "Finished: FAILURE"]
            break
        out += ["[Pipeline] }", "[Pipeline] // stage"]
    return out


def render_travis(v: Vocab, steps: list[Step], p: Project) -> list[str]:
    out = ["travis_fold:start:worker_info", "Worker information", f"hostname: {v.hex(8)}-{v.hex(4)}", "travis_fold:end:worker_info",
           f"travis_fold:start:git.checkout", f"$ git clone --depth=50 --branch=master https://github.com/{p.org}/{p.repo}.git {p.org}/{p.repo}",
           "travis_fold:end:git.checkout"]
    for st in steps:
        if (st.name == "Checkout" or _is_action(st)) and not st.exit_code:
            continue
        tag = st.name.lower().replace(" ", "_")
        if not st.exit_code:
            out += [f"travis_fold:start:{tag}", f"travis_time:start:{v.hex(8)}", f"$ {st.command or st.name}"] + st.lines + \
                   [f"travis_time:end:{v.hex(8)}:start={v.int(10**18, 2 * 10**18)},finish={v.int(10**18, 2 * 10**18)},duration={v.int(10**8, 10**11)}", f"travis_fold:end:{tag}"]
        else:
            out += [f"travis_time:start:{v.hex(8)}", f"$ {st.command or st.name}"] + st.lines + [
                "", f"The command \"{st.command or st.name}\" exited with {st.exit_code}.", "", f"Done. Your build exited with {st.exit_code}."]
            break
    return out


def render_circleci(v: Vocab, steps: list[Step], p: Project) -> list[str]:
    out = [f"Spin up environment", f"Build-agent version 1.0.{v.int(100000, 300000)}-{v.hex(8)}", f"Docker Engine Version: 2{v.int(0, 5)}.0.{v.int(0, 9)}"]
    for st in steps:
        if _is_action(st) and not st.exit_code:
            continue
        out += ["", f"{st.name}", f"#!/bin/bash -eo pipefail", f"{st.command or st.name}"] + st.lines
        if st.exit_code:
            out += ["", f"Exited with code exit status {st.exit_code}", f"CircleCI received exit code {st.exit_code}"]
            break
    return out


RENDERERS = {"github": render_github, "gitlab": render_gitlab, "jenkins": render_jenkins, "travis": render_travis, "circleci": render_circleci}


def render(v: Vocab, case: Case, p: Project, noisy: float = 0.5) -> str:
    steps = build_job(v, case, p, noisy)
    return "\n".join(RENDERERS[p.system](v, steps, p))
