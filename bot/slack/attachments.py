"""Fetch files attached to a Slack message: text only, under a size cap, with the bot token.

Each file ends up as a log, a CI config (context for the engine), or a polite note saying why it was skipped.
"""
from __future__ import annotations

import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from bot.slack.sanitize import escape, inline_code

TEXT_FILETYPES = {
    "text", "txt", "log", "yaml", "yml", "json", "xml", "shell", "bash", "python", "javascript",
    "typescript", "java", "go", "rust", "ruby", "diff", "patch", "markdown", "csv", "ini", "toml",
    "dockerfile", "groovy", "makefile", "plain",
}
CI_CONFIG_NAMES = {".gitlab-ci.yml", ".gitlab-ci.yaml", "jenkinsfile", ".travis.yml", "config.yml"}


@dataclass
class FetchedFiles:
    logs: list[str] = field(default_factory=list)
    ci_config: str | None = None
    ci_config_name: str | None = None
    notes: list[str] = field(default_factory=list)


def is_ci_config(name: str, text: str) -> bool:
    base = PurePosixPath(name).name.lower()
    if base in CI_CONFIG_NAMES:
        return True
    # A GitHub Actions workflow: YAML with jobs that run somewhere.
    return base.endswith((".yml", ".yaml")) and "jobs:" in text and ("runs-on:" in text or "steps:" in text)


def looks_textual(info: dict) -> bool:
    if info.get("mode") == "snippet":
        return True
    mimetype = (info.get("mimetype") or "").lower()
    if mimetype.startswith("text/") or mimetype in ("application/json", "application/x-yaml", "application/xml"):
        return True
    return (info.get("filetype") or "").lower() in TEXT_FILETYPES


def human_size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"


def trusted_file_url(url: str, hosts: Iterable[str]) -> bool:
    """Only Slack's own file servers (or the configured Web API host) ever see the bot token."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme in ("https", "http") and any(
        host == h or host.endswith("." + h) for h in (x.lower().strip(".") for x in hosts) if h)


def fetch_files(files: list[dict], token: str | None, max_bytes: int, timeout: float = 20.0,
                hosts: Iterable[str] = ("files.slack.com",)) -> FetchedFiles:
    out = FetchedFiles()
    for info in files:
        name = info.get("name") or info.get("title") or "attachment"
        size = _int(info.get("size"))
        url = info.get("url_private_download") or info.get("url_private")
        if url and not trusted_file_url(str(url), hosts):
            out.notes.append(f"I only download files from Slack; {inline_code(name)} links elsewhere, so I skipped it.")
        elif not looks_textual(info):
            out.notes.append(f"I can only read text files; {inline_code(name)} looks like {escape(str(info.get('pretty_type') or info.get('mimetype') or 'a binary file'))}, so I skipped it.")
        elif size > max_bytes:
            out.notes.append(f"{inline_code(name)} is {human_size(size)}, over my {human_size(max_bytes)} limit; attach the failing job's log or paste the failing part.")
        elif not url:
            out.notes.append(f"I could not download {inline_code(name)} (Slack sent no download link).")
        else:
            _fetch_one(out, name, url, token, max_bytes, timeout)
    return out


def _int(value) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def _fetch_one(out: FetchedFiles, name: str, url: str, token: str | None, max_bytes: int, timeout: float) -> None:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = response.read(max_bytes + 1)
    except OSError as exc:
        out.notes.append(f"I could not download {inline_code(name)} ({type(exc).__name__}).")
        return
    if len(data) > max_bytes:  # the size Slack reported was wrong or missing
        out.notes.append(f"{inline_code(name)} is over my {human_size(max_bytes)} limit; attach the failing job's log or paste the failing part.")
        return
    if b"\x00" in data[:8192]:
        out.notes.append(f"I can only read text files; {inline_code(name)} looks binary, so I skipped it.")
        return
    text = data.decode("utf-8", errors="replace")
    if out.ci_config is None and is_ci_config(name, text):
        out.ci_config, out.ci_config_name = text, name
    else:
        out.logs.append(text)
