"""Turn knowledge files into chunks: runbooks split by heading, incidents one chunk each.

Markdown, reStructuredText, HTML and plain text are split at their headings, and each chunk keeps
its heading path. Incident JSONL rows (`{"input", "output"}` plus optional `title`, `url`, `tags`,
`channel`, `id`) are redacted, and long logs reduced to their excerpt, before anything is embedded.
Pure functions: reading a file is the only side effect.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from retrieval.errors import InputError
from retrieval.logs.redact import redact, strip_url_credentials

DOC_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".rst": "rst", ".txt": "text",
                ".html": "html", ".htm": "html"}
INCIDENT_SUFFIXES = {".jsonl"}
SUPPORTED = set(DOC_SUFFIXES) | INCIDENT_SUFFIXES
# An incident log longer than this is reduced to its excerpt before embedding.
LONG_LOG_LINES = 40


@dataclass
class Chunk:
    text: str
    title: str
    uri: str
    heading_path: tuple[str, ...] = ()
    kind: str = "runbook"
    meta: dict = field(default_factory=dict)


@dataclass
class Document:
    """One unit of change: a runbook file, or one incident of a JSONL file."""

    key: str
    chunks: list[Chunk]
    channels: tuple[str, ...] = ()  # an incident's own `channel` limits where it is visible


@dataclass
class LoadReport:
    documents: list[Document] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path[:line], reason)


def iter_files(paths: Iterable[Path | str]) -> Iterator[tuple[Path, str | None]]:
    """Supported files under `paths` (recursively), sorted; (path, error) for a path that is missing."""
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            root = path.resolve()
            for child in sorted(p for p in path.rglob("*") if p.is_file() or p.is_symlink()):
                if child.suffix.lower() in SUPPORTED and not any(
                        part.startswith(".") for part in child.relative_to(path).parts):
                    if not _inside(child, root):  # a link out of the folder: never followed
                        yield child, "a symbolic link that leaves the ingested folder; skipped"
                        continue
                    yield child, None
        elif path.exists() or path.is_symlink():
            if path.suffix.lower() in SUPPORTED:
                yield path, None
            else:
                yield path, f"unsupported file type {path.suffix or '(none)'}; expected one of {sorted(SUPPORTED)}"
        else:
            yield path, "no such file or directory"


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except (ValueError, OSError, RuntimeError):  # outside, unreadable, or a link loop
        return False


def display_name(path: Path, roots: Iterable[Path | str]) -> str:
    """How a source is shown in answers: relative to the folder it was ingested from (its name
    included), never the server's absolute path."""
    absolute = Path(os.path.abspath(path))
    for raw in roots:
        root = Path(os.path.abspath(Path(raw).expanduser()))
        if root == absolute:
            return absolute.name
        try:
            return (Path(root.name) / absolute.relative_to(root)).as_posix()
        except ValueError:
            continue
    return absolute.name


def load_file(path: Path, uri: str, chunk_chars: int = 1200) -> LoadReport:
    """Chunks of one file. Raises InputError when the file cannot be read at all."""
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc.__class__.__name__}: {exc}") from exc
    suffix = path.suffix.lower()
    if suffix in INCIDENT_SUFFIXES:
        return load_incidents(text, uri, chunk_chars)
    kind = DOC_SUFFIXES[suffix]
    sections = {"markdown": markdown_sections, "rst": rst_sections, "html": html_sections,
                "text": text_sections}[kind](text)
    title = redact_text(_doc_title(sections, path))
    sections = keep_parents_whole(sections, PARENT_CHARS_PER_CHUNK * chunk_chars)
    chunks = [  # runbooks get pasted secrets too: everything indexed is redacted
        Chunk(text=redact_text(piece), title=title, uri=uri, heading_path=tuple(redact_text(h) for h in heading))
        for heading, body in sections
        # redacted before it is cut (a cut can part a secret from the word that marks it) and after
        # (each piece starts with its raw heading path)
        for piece in split_body(heading, redact_text(body), chunk_chars)
    ]
    return LoadReport(documents=[Document(key=uri, chunks=chunks)])


# A section and its subsections travel as one passage while they fit in this many chunks' worth
# of text: "## Symptom" and "## Fix" of one runbook entry must reach the prompt together.
PARENT_CHARS_PER_CHUNK = 2


# Subsection headings that name a part of one entry, not an entry of their own.
_PART = re.compile(r"(?i)^\W*(?:symptoms?|signs?|errors?|cause|root cause|causes|why|diagnos\w*|fix(?:es)?|how to fix"
                   r"|resolution|resolve|solution|remedy|workaround|mitigation|steps|example|examples|notes?"
                   r"|prevention|verify|verification|context|background|see also)\b")


def keep_parents_whole(sections: list[tuple[tuple[str, ...], str]], budget: int,
                       ) -> list[tuple[tuple[str, ...], str]]:
    """Merge a section with its subsections (in document order) when they are the parts of one
    entry ("## Symptom", "## Fix") and the whole fits `budget` characters. A section whose
    subsections are entries of their own ("## Cache restore warnings") keeps them apart."""
    out: list[tuple[tuple[str, ...], str]] = []
    i = 0
    while i < len(sections):
        head, body = sections[i]
        end = i + 1
        while end < len(sections) and len(sections[end][0]) > len(head) and sections[end][0][:len(head)] == head:
            end += 1
        children = [h[-1] for h, _ in sections[i + 1:end] if len(h) == len(head) + 1]
        if head and end > i + 1 and all(_PART.match(c) for c in children):
            parts = [body.strip()] + [f"{'#' * (len(h) - len(head) + 1)} {h[-1]}\n{b.strip()}".strip()
                                      for h, b in sections[i + 1:end]]
            whole = "\n\n".join(p for p in parts if p)
            if len(whole) <= budget:
                out.append((head, whole))
                i = end
                continue
        out.append((head, body))
        i += 1
    return out


def _doc_title(sections: list[tuple[tuple[str, ...], str]], path: Path) -> str:
    for heading, _ in sections:
        if heading:
            return heading[0]
    return path.stem.replace("-", " ").replace("_", " ")


def split_body(heading: tuple[str, ...], body: str, chunk_chars: int) -> list[str]:
    """The section text, prefixed by its heading path, cut at paragraph breaks to fit chunk_chars."""
    body = body.strip()
    if not body:  # a heading straight followed by its first subsection: nothing of its own
        return []
    prefix = " > ".join(heading)
    pieces, current = [], ""
    for para in re.split(r"\n\s*\n", body):
        if current and len(current) + len(para) + 2 > chunk_chars:
            pieces.append(current)
            current = ""
        current = f"{current}\n\n{para}" if current else para
        while len(current) > chunk_chars * 2:  # one huge paragraph: cut it hard
            pieces.append(current[:chunk_chars])
            current = current[chunk_chars:]
    if current or not pieces:
        pieces.append(current)
    return [f"{prefix}\n\n{p}".strip() if prefix else p for p in pieces if p.strip()]


# -- Markdown -----------------------------------------------------------------------------------
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def markdown_sections(text: str) -> list[tuple[tuple[str, ...], str]]:
    """(heading path, body) per section, split by llama-index's MarkdownNodeParser (headings in code
    fences are code, not headings); the heading path is the node's header_path plus its own heading."""
    from llama_index.core import Document as LlamaDocument  # heavy: only when a Markdown file is loaded
    from llama_index.core.node_parser import MarkdownNodeParser

    sep = "\x1f"  # a separator no heading contains
    nodes = MarkdownNodeParser(header_path_separator=sep, include_prev_next_rel=False).get_nodes_from_documents(
        [LlamaDocument(text=text)])
    sections = []
    for node in nodes:
        first, _, body = node.get_content().partition("\n")
        heading = _MD_HEADING.match(first)
        parents = tuple(h for h in node.metadata.get("header_path", "").split(sep) if h)
        if heading:
            sections.append((parents + (heading.group(2).strip(),), body))
        else:  # text before the first heading
            sections.append((parents, node.get_content()))
    return [(h, b) for h, b in sections if h or b.strip()]


# -- reStructuredText ---------------------------------------------------------------------------
_RST_ADORN = re.compile(r"^([=\-`:'\"~^_*+#<>.])\1{2,}\s*$")


def rst_sections(text: str) -> list[tuple[tuple[str, ...], str]]:
    lines = text.splitlines()
    styles: list[tuple[str, bool]] = []  # adornment styles in order of first use = levels
    sections: list[tuple[tuple[str, ...], list[str]]] = [((), [])]
    stack: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        over = bool(_RST_ADORN.match(line)) and i + 2 < len(lines) and lines[i + 2] == line
        title_line = lines[i + 1] if over else line
        under = lines[i + 2] if over else nxt
        if title_line.strip() and not _RST_ADORN.match(title_line) and _RST_ADORN.match(under) \
                and len(under.rstrip()) >= len(title_line.strip()):
            style = (under[0], over)
            if style not in styles:
                styles.append(style)
            level = styles.index(style)
            stack = [(lvl, h) for lvl, h in stack if lvl < level] + [(level, title_line.strip())]
            sections.append((tuple(h for _, h in stack), []))
            i += 3 if over else 2
            continue
        sections[-1][1].append(line)
        i += 1
    return [(h, "\n".join(ls)) for h, ls in sections if h or "".join(ls).strip()]


# -- HTML ---------------------------------------------------------------------------------------
class _HtmlSections(HTMLParser):
    BLOCK = {"p", "div", "li", "tr", "br", "pre", "section", "article", "table", "ul", "ol", "dd", "dt"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sections: list[tuple[tuple[str, ...], list[str]]] = [((), [])]
        self.stack: list[tuple[int, str]] = []
        self.heading_level: int | None = None
        self.heading_text: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head", "nav"):
            self.skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.heading_level, self.heading_text = int(tag[1]), []
        elif tag in self.BLOCK:
            self.sections[-1][1].append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head", "nav"):
            self.skip = max(0, self.skip - 1)
        elif re.fullmatch(r"h[1-6]", tag) and self.heading_level is not None:
            title = " ".join("".join(self.heading_text).split())
            level, self.heading_level = self.heading_level, None
            if title:
                self.stack = [(lvl, h) for lvl, h in self.stack if lvl < level] + [(level, title)]
                self.sections.append((tuple(h for _, h in self.stack), []))
        elif tag in self.BLOCK:
            self.sections[-1][1].append("\n")

    def handle_data(self, data):
        if self.skip:
            return
        if self.heading_level is not None:
            self.heading_text.append(data)
        else:
            self.sections[-1][1].append(data)


def html_sections(text: str) -> list[tuple[tuple[str, ...], str]]:
    parser = _HtmlSections()
    parser.feed(text)
    parser.close()
    out = []
    for heading, parts in parser.sections:
        body = re.sub(r"\n\s*\n\s*", "\n\n", re.sub(r"[ \t]+", " ", "".join(parts))).strip()
        if heading or body:
            out.append((heading, body))
    return out


def text_sections(text: str) -> list[tuple[tuple[str, ...], str]]:
    return [((), text)] if text.strip() else []


# -- Incidents ----------------------------------------------------------------------------------
def load_incidents(text: str, uri: str, chunk_chars: int = 1200) -> LoadReport:
    """One Document per JSONL row; a malformed row is reported and skipped, the rest load."""
    report = LoadReport()
    seen: set[str] = set()
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("input"), str) \
                    or not isinstance(row.get("output"), str):
                raise ValueError('expected an object with string "input" and "output"')
        except ValueError as exc:
            report.errors.append((f"{uri}:{lineno}", str(exc)))
            continue
        doc = incident_document(row, uri, lineno)
        if doc.key in seen:  # duplicate ids: keep the first, say so
            report.errors.append((f"{uri}:{lineno}", f"duplicate incident id {doc.key!r}"))
            continue
        seen.add(doc.key)
        report.documents.append(doc)
    return report


def incident_document(row: dict, uri: str, lineno: int | None = None) -> Document:
    ident = str(row.get("id") or hashlib.sha256(row["input"].encode()).hexdigest()[:16])
    chunk = incident_chunk(
        text_in=row["input"], text_out=row["output"], title=row.get("title"),
        uri=row.get("url") or (f"{uri}#L{lineno}" if lineno else uri), tags=row.get("tags"),
    )
    channel = row.get("channel")
    channels = tuple(channel) if isinstance(channel, list) else ((channel,) if channel else ())
    return Document(key=f"{uri}#{ident}", chunks=[chunk], channels=tuple(str(c) for c in channels))


def incident_chunk(text_in: str, text_out: str, title: str | None, uri: str,
                   tags: list[str] | str | None = None, kind: str = "incident") -> Chunk:
    """An incident as one chunk: its (redacted, excerpted) failure, then how it was resolved."""
    failure = failure_text(text_in)
    resolution = redact_text(text_out).strip()
    title = redact_text(str(title or _first_line(failure) or "incident")).strip()[:200]
    uri = safe_url(uri)
    tag_text = redact_text(", ".join(map(str, tags)) if isinstance(tags, list) else str(tags or ""))
    body = f"{title}\n\nFailure:\n{failure}\n\nResolution:\n{resolution}"
    meta = {"tags": tag_text} if tag_text else {}
    return Chunk(text=body, title=title, uri=uri, heading_path=(title,), kind=kind, meta=meta)


def failure_text(log_text: str) -> str:
    """Redacted failure text; a long log is reduced to the lines that explain its failure."""
    if log_text.count("\n") >= LONG_LOG_LINES:
        from retrieval.logs.excerpt import extract

        # Bytes, so the excerpter never mistakes log text for a path.
        return extract(log_text.encode("utf-8"), max_lines=30).text()
    return redact_text(log_text).strip()


def redact_text(text: str) -> str:
    return redact(text).text


def safe_url(uri: str) -> str:
    """A URI fit to show: credentials gone from its authority, secrets gone from the rest."""

    return redact_text(strip_url_credentials(str(uri)))


def _first_line(text: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
