"""Read a CI configuration as context for an answer: which job/step failed, and what in its
definition could explain it.

Recognises GitHub Actions workflows, .gitlab-ci.yml, Jenkinsfile, .circleci/config.yml and
.travis.yml. The file is never executed or fully parsed: lines are kept with their numbers (so an
answer can cite `file:line`), blocks are found by indentation (YAML) or braces (Jenkinsfile), and
every line is redacted before it goes anywhere. A few deterministic checks (a working directory
the log cannot find, a database the tests reach for with no service defined, an unpinned image)
yield findings the engine can state when the model is unsure.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from retrieval.errors import InputError
from retrieval.logs.evidence import terms
from retrieval.logs.redact import redact

MAX_CONFIG_BYTES = 512 * 1024
KINDS = ("github", "gitlab", "jenkins", "circleci", "travis", "unknown")


@dataclass(frozen=True)
class ConfigLine:
    """One line of a CI config, 1-based, already redacted. Like LogLine, plus the file it is from."""

    file: str
    n: int
    text: str

    def to_json(self) -> dict:
        return {"file": self.file, "n": self.n, "text": self.text}


@dataclass
class CiConfig:
    name: str
    kind: str
    lines: list[str]  # redacted; lines[i] is line i + 1

    def line(self, n: int) -> ConfigLine:
        return ConfigLine(self.name, n, self.lines[n - 1])


@dataclass
class Section:
    """The part of the config that ran the failing step: the job's header and the step itself."""

    job: str | None
    step: str | None
    lines: list[ConfigLine] = field(default_factory=list)
    job_n: int | None = None  # the job's own line (1-based), where a finding about the job points

    def render(self, budget_chars: int = 600) -> str:
        """Numbered lines for the prompt, cut to the budget (the step's own lines come first)."""
        if not self.lines:
            return ""
        head = f"# {self.lines[0].file}"
        out, used = [head], len(head)
        for ln in self.lines:
            row = f"{ln.n}| {ln.text.rstrip()}"
            if used + len(row) + 1 > budget_chars:
                break
            out.append(row)
            used += len(row) + 1
        return "\n".join(out)


@dataclass(frozen=True)
class Finding:
    """A deterministic check's verdict, citing the config line it is about."""

    check: str
    strength: float  # 0..1: how sure the check is that this caused the failure
    root_cause: str
    fix: str
    line: ConfigLine


# ---- loading -------------------------------------------------------------------------------

def detect_kind(name: str, text: str) -> str:
    low = name.replace("\\", "/").lower()
    if ".github/workflows/" in low or (re.search(r"(?m)^on\s*:", text) and re.search(r"(?m)^jobs\s*:", text)):
        return "github"
    if low.endswith(".gitlab-ci.yml") or low.endswith(".gitlab-ci.yaml"):
        return "gitlab"
    if low.endswith("jenkinsfile") or re.search(r"^\s*pipeline\s*\{", text, re.M):
        return "jenkins"
    if ".circleci/" in low or re.search(r"(?m)^version\s*:\s*2\.?1?\s*$", text) and "workflows:" in text:
        return "circleci"
    if low.endswith(".travis.yml") or re.search(r"(?m)^language\s*:", text):
        return "travis"
    if re.search(r"(?m)^stages\s*:", text) and re.search(r"(?m)^\s+script\s*:", text):
        return "gitlab"
    return "unknown"


def load_config(source: str | Path, name: str | None = None) -> CiConfig:
    """Read a config file (a Path, or the text itself) and redact every line."""
    if isinstance(source, Path):
        try:
            raw = source.read_bytes()[:MAX_CONFIG_BYTES]
        except OSError as exc:
            raise InputError(f"{source}: cannot read CI config ({exc.strerror or exc})") from exc
        text = raw.decode("utf-8", errors="replace")
        name = name or _display_name(source)
    else:
        text = source[:MAX_CONFIG_BYTES]
        name = name or "ci-config"
    lines = [redact(line).text for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return CiConfig(name, detect_kind(name, text), lines)


def _display_name(path: Path) -> str:
    parts = path.parts
    for marker in (".github", ".circleci"):
        if marker in parts:
            return "/".join(parts[parts.index(marker):])
    return path.name


# ---- structure -----------------------------------------------------------------------------
# YAML configs are composed (yaml.compose: nodes with their line marks, nothing constructed, so
# custom tags such as GitLab's !reference are fine); a config that is not valid YAML gets no job
# structure and its first lines stand for it.

_GITLAB_RESERVED = {"stages", "variables", "default", "include", "workflow", "image", "services",
                    "before_script", "after_script", "cache"}
_TRAVIS_PHASES = {"install", "before_install", "before_script", "script", "after_success",
                  "after_failure", "deploy", "jobs", "matrix"}
_STEP_KEYS = ("steps", "script", "before_script", "after_script")


@dataclass(frozen=True)
class _Block:
    """A YAML job or step: its name, and lines[first:end] (0-based, end exclusive)."""

    name: str | None
    first: int
    end: int


@dataclass(frozen=True)
class _Job(_Block):
    steps: tuple[_Block, ...] = ()
    containers: tuple[tuple[int, int], ...] = ()  # (key line, end) of each steps/script block


def _blank(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _compose(cfg: CiConfig):
    import yaml

    try:
        return yaml.compose("\n".join(cfg.lines), Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None


def _end(node, floor: int) -> int:
    """The line index just past `node` (at least `floor`): the last line any of its scalars is on.
    An alias resolves to the anchored node, which lies earlier in the file: `floor` keeps the
    block from ending before its own key."""
    import yaml

    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        mark = node.end_mark
        last = mark.line if mark.column == 0 and mark.line > node.start_mark.line else mark.line + 1
        return max(last, floor)
    children = node.value if isinstance(node, yaml.SequenceNode) else [n for pair in node.value for n in pair]
    return max([floor] + [_end(child, floor) for child in children])


def _pairs(node) -> list[tuple[str, object, object]]:
    """(key text, key node, value node) of a mapping node; [] for anything else."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return []
    return [(str(k.value), k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)]


def _step_name(item) -> str | None:
    """A step's name: its `name:`, else its first key ("run", "uses"); none for a script line."""
    pairs = _pairs(item)
    named = [v.value for key, _, v in pairs if key == "name" and isinstance(v.value, str)]
    return (named[0].strip() if named else pairs[0][0]) if pairs else None


def _job(name: str, key, value) -> _Job:
    import yaml

    first = key.start_mark.line
    steps, containers = [], []
    for child, child_key, child_value in _pairs(value):
        if child not in _STEP_KEYS or child_key.start_mark.line < first:
            continue
        start = child_key.start_mark.line
        containers.append((start, _end(child_value, start + 1)))
        if isinstance(child_value, yaml.SequenceNode):
            steps += [_Block(_step_name(item), item.start_mark.line, _end(item, item.start_mark.line + 1))
                      for item in child_value.value if item.start_mark.line > start]
    return _Job(name, first, _end(value, first + 1), tuple(steps), tuple(containers))


def _yaml_jobs(cfg: CiConfig) -> list[_Job]:
    """The jobs of a YAML config, each with its steps."""
    top = _pairs(_compose(cfg))
    if cfg.kind in ("github", "circleci"):
        jobs = next((value for key, _, value in top if key == "jobs"), None)
        return [_job(name, k, v) for name, k, v in _pairs(jobs)]
    if cfg.kind == "gitlab":
        return [_job(name, k, v) for name, k, v in top if name not in _GITLAB_RESERVED and not name.startswith(".")]
    # travis and unknown: each top-level phase acts as a job
    return [_job(name, k, v) for name, k, v in top if cfg.kind != "travis" or name in _TRAVIS_PHASES]


def _jenkins_blocks(lines: Sequence[str]) -> list[tuple[str, int, int]]:
    """(stage name, first index, end index) for each `stage('name') {` block, by brace matching."""
    blocks = []
    for i, line in enumerate(lines):
        match = re.search(r"\bstage\s*\(\s*['\"]([^'\"]+)['\"]", line)
        if not match:
            continue
        depth, j = 0, i
        while j < len(lines):
            depth += lines[j].count("{") - lines[j].count("}")
            j += 1
            if depth <= 0 and j > i + 1 or (depth <= 0 and "{" in lines[i] and "}" in lines[i]):
                break
        blocks.append((match.group(1), i, j))
    return blocks


# ---- selection -----------------------------------------------------------------------------

def _score(text: str, step_terms: set[str], log_terms: set[str]) -> float:
    block = terms(text)
    return 3.0 * len(block & step_terms) + len(block & log_terms)


def select(cfg: CiConfig, step: str | None, excerpt_text: str = "") -> Section:
    """The failing job's header and the step that best matches the excerpt's step name and text."""
    lines = cfg.lines
    step_terms, log_terms = terms(step or ""), terms(excerpt_text)
    if cfg.kind == "jenkins":
        blocks = _jenkins_blocks(lines)
        if not blocks:
            return Section(None, None, [cfg.line(n) for n in range(1, min(len(lines), 40) + 1)])
        name, i, j = max(blocks, key=lambda b: (_score("\n".join(lines[b[1]:b[2]]), step_terms, log_terms), -b[1]))
        return Section(name, name, [cfg.line(n + 1) for n in range(i, j) if not _blank(lines[n])])
    best: tuple[float, _Job, _Block] | None = None
    for job in _yaml_jobs(cfg):
        for step in job.steps or (_Block(None, job.first, job.end),):
            score = (_score("\n".join(lines[step.first:step.end]), step_terms, log_terms)
                     + 0.5 * _score(job.name or "", step_terms, log_terms))
            if best is None or score > best[0]:
                best = (score, job, step)
    if best is None:
        return Section(None, None, [cfg.line(n + 1) for n in range(min(len(lines), 40)) if not _blank(lines[n])])
    _, job, step = best
    a, b = step.first, step.end
    header = [n for n in range(job.first, job.end) if not any(c0 < n < c1 for c0, c1 in job.containers)]
    picked = sorted(set(range(a, b)) | set(header[:14]))
    # The step's lines first in the prompt: they are what failed; the header gives its context.
    ordered = list(range(a, b)) + [n for n in picked if n < a or n >= b]
    return Section(job.name, step.name, [cfg.line(n + 1) for n in ordered if not _blank(lines[n])], job.first + 1)


# ---- checks --------------------------------------------------------------------------------

_WORKDIR = re.compile(r"""(?:working[-_]directory\s*:\s*|\bdir\s*\(\s*|^\s*-?\s*cd\s+)['"]?([\w.\-/${}]+)""")
_MISSING = re.compile(r"(?i)(no such file or directory|enoent|not found|does not exist|cannot find|could not find|can't find|no \S+ found)")
_DB_PORTS = {"5432": "postgres", "3306": "mysql", "6379": "redis", "27017": "mongo", "9200": "elasticsearch",
             "5672": "rabbitmq", "11211": "memcached"}
_REFUSED = re.compile(r"(?i)(connection refused|econnrefused|could not connect|can't connect|connect to .* failed|"
                      r"could not translate host name|name or service not known)")
_IMAGE = re.compile(r"""^\s*-?\s*(?:image\s*:|uses\s*:|docker\s+pull\s+)\s*['"]?([\w.\-/]+)(?:[:@]([\w.\-]+))?""")


def check(cfg: CiConfig, section: Section, excerpt_lines: Sequence[str]) -> list[Finding]:
    """Deterministic findings, strongest first."""
    log = "\n".join(excerpt_lines)
    findings = _check_workdir(cfg, section, excerpt_lines) + _check_services(cfg, section, log)
    findings += _check_images(section, log)
    return sorted(findings, key=lambda f: (-f.strength, f.line.n))


def _norm_dir(value: str) -> str:
    return value.strip().strip("'\"").removeprefix("./").rstrip("/")


def _check_workdir(cfg: CiConfig, section: Section, log_lines: Sequence[str]) -> list[Finding]:
    found = []
    for ln in section.lines:
        match = _WORKDIR.search(ln.text)
        if not match or "${" in match.group(1):
            continue
        folder = _norm_dir(match.group(1))
        if not folder or folder == ".":
            continue
        pattern = re.compile(r"(?:^|[\s'\"/:])" + re.escape(folder) + r"(?:[/'\":\s]|$)")
        for text in log_lines:
            if _MISSING.search(text) and pattern.search(text):
                found.append(Finding(
                    "working-directory", 0.95,
                    f"the step runs in working-directory '{folder}' ({ln.file}:{ln.n}), which the job "
                    f"cannot find in the checkout: {text.strip()[:160]}",
                    f"Point working-directory at the folder that holds the project, or create "
                    f"'{folder}' ({ln.file}:{ln.n}).", ln))
                break
    return found


def _check_services(cfg: CiConfig, section: Section, log: str) -> list[Finding]:
    wanted = set()
    for line in log.splitlines():
        if _REFUSED.search(line):
            wanted.update(svc for port, svc in _DB_PORTS.items() if port in line)
            wanted.update(svc for svc in _DB_PORTS.values() if svc in line.lower())
    if not wanted:
        return []
    section_text = "\n".join(ln.text for ln in section.lines).lower()
    has_services = re.search(r"(?m)^\s*(services|docker)\s*:", section_text) is not None
    anchor = section.lines[0] if section.lines else cfg.line(1)
    job_line = next((ln for ln in section.lines if ln.n == section.job_n), anchor)
    found = []
    for svc in sorted(wanted):
        if svc in section_text and has_services:
            continue
        found.append(Finding(
            "missing-service", 0.8,
            f"the tests connect to {svc}, but job '{section.job or '?'}' ({job_line.file}:{job_line.n}) "
            f"starts no {svc} service",
            f"Add a {svc} service to the job (`services:`) and point the tests at it, "
            f"with a health check so they wait until it accepts connections.", job_line))
    return found


def _check_images(section: Section, log: str) -> list[Finding]:
    version_trouble = re.search(r"(?i)(manifest unknown|not compatible|incompatible|unsupported|"
                                r"version mismatch|was initialized by|requires .* version)", log)
    found = []
    for ln in section.lines:
        match = _IMAGE.search(ln.text)
        if not match:
            continue
        ref, tag = match.group(1), match.group(2)
        if tag and tag not in ("latest", "main", "master", "stable"):
            continue
        strength = 0.6 if version_trouble else 0.2
        found.append(Finding(
            "unpinned-image", strength,
            f"'{ref}' is not pinned to a version ({ln.file}:{ln.n}), so a new upstream release can "
            f"change the build without any commit",
            f"Pin '{ref}' to a tag or digest that is known to work ({ln.file}:{ln.n}).", ln))
    return found
