"""Render a failure case as a whole CI job log in the style of one CI system.

A job is a list of steps (checkout, toolchain setup, dependency install, the failing step, cleanup);
each system frames them its own way: GitHub Actions (timestamps, ##[group]/##[error]), GitLab
(section markers), Jenkins ([Pipeline] stages), Travis (travis_fold), CircleCI (step banners).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from .case import Case, Project
from .steps import Step, build_job, job_image
from .vocab import Vocab

SYSTEMS = ("github", "gitlab", "jenkins", "travis", "circleci")
_ACTION = re.compile(r"^(uses: )?[\w.-]+/[\w./-]+@")  # owner/repo@ref: an action, not a shell command
SYSTEM_TITLES = {"github": "GitHub Actions", "gitlab": "GitLab CI", "jenkins": "Jenkins", "travis": "Travis CI", "circleci": "CircleCI"}


class _Clock:
    def __init__(self, v: Vocab):
        self.t = datetime(2024, v.int(1, 12), v.int(1, 28), v.int(0, 23), v.int(0, 59), v.int(0, 59), v.int(0, 999999))
        self.v = v

    def tick(self) -> str:
        self.t += timedelta(milliseconds=self.v.int(1, 900))
        return self.t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def render_github(v: Vocab, steps: list[Step], p: Project, image: str) -> list[str]:
    out = [f"Current runner version: '2.3{v.int(10, 20)}.{v.int(0, 3)}'", "Operating System", "  Ubuntu", f"  22.04.{v.int(1, 4)}", "  LTS",
           f"Runner Image", f"  Image: ubuntu-22.04", f"  Version: 2024{v.int(1, 12):02d}{v.int(1, 28):02d}.1.0",
           "GITHUB_TOKEN Permissions", "  Contents: read", "  Metadata: read", f"Secret source: Actions"]
    if v.chance(0.4):  # a log copied from the UI or downloaded per step has no "Set up job" preamble
        out = []
    if steps[-1].command == "(workflow parse)":  # an invalid workflow never starts a job
        return list(steps[-1].lines)
    for st in steps:
        if st.name == "Set up job":  # the runner's own preparation: no ##[group]Run banner
            out.extend(st.lines)
            out.append("##[error]" + st.lines[-1].removeprefix("Error: "))
            break
        out.append(f"##[group]Run {st.command or st.name}")
        out.append(f"{st.command or st.name}")
        if st.command and not _ACTION.match(st.command):
            out.append("shell: /usr/bin/bash -e {0}")
        out.append("##[endgroup]")
        out.extend(st.lines)
        if st.exit_code:
            out.append(f"##[error]Process completed with exit code {st.exit_code}.")
            if st.soft_fail:  # continue-on-error: the job goes on to the step that really fails
                continue
            break
    git = next((line for st in steps for line in st.lines if line.startswith("git version ")), f"git version 2.{v.int(39, 45)}.{v.int(0, 3)}")
    out += ["Post job cleanup.", "[command]/usr/bin/git version", git,
            "Cleaning up orphan processes"]
    stamped = v.chance(0.7)
    clock = _Clock(v)
    # Error lines printed by the runner itself use ##[error]; tool output lines are left as printed.
    return [f"{clock.tick()} {line}" for line in out] if stamped else out


def _out(step: Step) -> list[str]:
    return step.lines if step.shell_lines is None else step.shell_lines


def _skip(step: Step) -> bool:
    """Steps a non-GitHub system does not print: its own checkout, and actions with no shell form."""
    return step.boilerplate or step.shell is None


def render_gitlab(v: Vocab, steps: list[Step], p: Project, image: str) -> list[str]:
    ansi = v.chance(0.6)
    ts = v.int(1700000000, 1730000000)

    def section(name: str, start: bool) -> str:
        return f"section_{'start' if start else 'end'}:{ts}:{name}\r\x1b[0K" if ansi else ""

    out = [f"Running with gitlab-runner 16.{v.int(0, 11)}.{v.int(0, 3)} ({v.hex(8)})", f"  on {v.pick(['docker-runner', 'k8s-runner', 'shared-runner'])}-{v.int(1, 9)} {v.alnum(8)}, system ID: s_{v.hex(12)}",
           section("prepare_executor", True) + "Preparing the \"docker\" executor",
           f"Using docker image sha256:{v.hex(64)} for {image} with digest {image.split(':')[0]}@sha256:{v.hex(64)} ...",
           section("prepare_executor", False), section("get_sources", True) + "Getting source from Git repository",
           f"Fetching changes with git depth set to 20...", f"Checking out {v.hex(8)} as detached HEAD (ref is main)...", section("get_sources", False),
           section("step_script", True) + "Executing \"step_script\" stage of the job script"]
    for st in steps:
        if _skip(st):
            continue
        out.append(f"$ {st.shell}")
        out.extend(_out(st))
        if st.exit_code:
            break
    code = next((s.exit_code for s in steps if s.exit_code), 1)
    out += [section("step_script", False), section("cleanup_file_variables", True) + "Cleaning up project directory and file based variables",
            section("cleanup_file_variables", False), f"ERROR: Job failed: exit code {code}"]
    out = [line for line in out if line != ""]
    if v.chance(0.3):  # GitLab 17 raw logs prefix every line with a timestamp and stream marker
        clock = _Clock(v)
        out = [f"{clock.tick()[:-2]}Z 00O {line}" for line in out]
    return out


def render_jenkins(v: Vocab, steps: list[Step], p: Project, image: str) -> list[str]:
    out = [f"Started by {v.pick(['user admin', 'GitHub push by ' + v.word(), 'an SCM change', 'timer'])}", "Obtained Jenkinsfile from git " + f"https://github.com/{p.org}/{p.repo}.git",
           "[Pipeline] Start of Pipeline", f"[Pipeline] node", f"Running on {v.pick(['agent', 'linux', 'build'])}-{v.int(1, 20)} in {p.root}",
           "[Pipeline] {", "[Pipeline] stage", "[Pipeline] { (Declarative: Checkout SCM)", "[Pipeline] checkout",
           f"Checking out Revision {v.hex(40)} (refs/remotes/origin/main)", "[Pipeline] }"]
    for st in steps:
        if _skip(st):
            continue
        out += ["[Pipeline] stage", f"[Pipeline] {{ ({st.name})", "[Pipeline] sh", f"+ {st.shell}"]
        out.extend(_out(st))
        if st.exit_code:
            out += ["[Pipeline] }", "[Pipeline] // stage", "[Pipeline] }", "[Pipeline] // node", "[Pipeline] End of Pipeline",
                    f"ERROR: script returned exit code {st.exit_code}", "Finished: FAILURE"]
            break
        out += ["[Pipeline] }", "[Pipeline] // stage"]
    if v.chance(0.4):  # the Timestamper plugin
        clock = _Clock(v)
        out = [f"[{clock.tick()[:23]}Z] {line}" for line in out]
    return out


def _travis_time(v: Vocab) -> str:
    start, duration = v.int(1_500_000_000, 1_700_000_000) * 10**9, v.int(10**8, 10**11)
    return f"travis_time:end:{v.hex(8)}:start={start},finish={start + duration},duration={duration}"


def render_travis(v: Vocab, steps: list[Step], p: Project, image: str) -> list[str]:
    out = ["travis_fold:start:worker_info", "Worker information", f"hostname: {v.hex(8)}-{v.hex(4)}", "travis_fold:end:worker_info",
           f"travis_fold:start:git.checkout", f"$ git clone --depth=50 --branch=master https://github.com/{p.org}/{p.repo}.git {p.org}/{p.repo}",
           "travis_fold:end:git.checkout"]
    for st in steps:
        if _skip(st):
            continue
        tag = st.name.lower().replace(" ", "_")
        if not st.exit_code:
            out += [f"travis_fold:start:{tag}", f"travis_time:start:{v.hex(8)}", f"$ {st.shell}"] + _out(st) + \
                   [_travis_time(v), f"travis_fold:end:{tag}"]
        else:
            out += [f"travis_time:start:{v.hex(8)}", f"$ {st.shell}"] + st.lines + [
                "", f"The command \"{st.shell}\" exited with {st.exit_code}.", "", f"Done. Your build exited with {st.exit_code}."]
            break
    return out


def render_circleci(v: Vocab, steps: list[Step], p: Project, image: str) -> list[str]:
    out = ["Spin up environment", f"Build-agent version 1.0.{v.int(100000, 300000)}-{v.hex(8)} (2024-0{v.int(1, 9)}-1{v.int(0, 9)}T10:12:33+0000)",
           f"Docker Engine Version: 2{v.int(0, 5)}.0.{v.int(0, 9)}", f"Starting container cimg/{image.split(':')[0].split('/')[-1]}:{image.split(':')[-1]}",
           "", "Checkout code", "#!/bin/sh", "Creating .ssh directory", f"Cloning git repository", f"HEAD is now at {v.hex(7)}"]
    for st in steps:
        if _skip(st):
            continue
        out += ["", f"{st.name}", f"#!/bin/bash -eo pipefail", f"{st.shell}"] + _out(st)
        if st.exit_code:
            out += ["", f"Exited with code exit status {st.exit_code}", f"CircleCI received exit code {st.exit_code}"]
            break
    return out


RENDERERS = {"github": render_github, "gitlab": render_gitlab, "jenkins": render_jenkins, "travis": render_travis, "circleci": render_circleci}


_RED = re.compile(r"(npm ERR!|^E  |\bFAILED\b|\bFAIL\b|^\[ERROR\]|\berror\b|^Error)")
_GREEN = re.compile(r"(\bPASSED\b|^ok |\bPASS\b|✔|✓)")


def _colour(v: Vocab, lines: list[str]) -> list[str]:
    """Tools run with FORCE_COLOR print ANSI colours; a faithful corpus keeps some of them."""
    out = []
    for line in lines:
        if _RED.search(line):
            line = f"\x1b[31m{line}\x1b[0m" if v.chance(0.8) else f"\x1b[1m\x1b[31m{line}\x1b[39m\x1b[22m"
        elif _GREEN.search(line):
            line = f"\x1b[32m{line}\x1b[0m"
        out.append(line)
    return out


def render(v: Vocab, case: Case, p: Project, noisy: float = 0.5) -> str:
    steps = build_job(v, case, p, noisy)
    if v.chance(0.12):
        steps[-1].lines = _colour(v, steps[-1].lines)
    image = job_image(v, case)
    text = "\n".join(RENDERERS[p.system](v, steps, p, image))
    # Logs saved from Windows runners or downloaded through some UIs end lines with CRLF.
    return text.replace("\n", "\r\n") if v.chance(0.02) else text
