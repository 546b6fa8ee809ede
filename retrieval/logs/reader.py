"""Stream a CI log as numbered, ANSI-stripped lines, in bounded memory.

Accepts a path (plain or gzip, sniffed by magic bytes), "-" for stdin, bytes, str (log text, or a
path when it names one), or a binary/text file object. Lines are split on \\r\\n, \\r or \\n, the
same way ../shared/eval/score_excerpts.py does, so line numbers agree with the labels. Invalid
UTF-8 becomes U+FFFD; a single line longer than MAX_LINE_CHARS is cut (and still counts as one
line), so a 10 MB line costs at most one block of memory.
"""
from __future__ import annotations

import codecs
import gzip
import io
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import compress, count
from pathlib import Path
from typing import IO, Union

from retrieval.errors import InputError
from retrieval.types import LogLine

Source = Union[str, bytes, os.PathLike, IO[bytes], IO[str]]

BLOCK_BYTES = 1 << 20
MAX_LINE_CHARS = 64 * 1024
SNIFF_BYTES = 64 * 1024
ANSI_HOLD = 64  # longest escape code held back across a block boundary
# The scorer's ANSI pattern: CSI sequences and two-byte escapes. Neither can span a line end.
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
NEWLINE = re.compile(r"(\r\n|\r|\n)")  # captured: split() gives line, separator, line, ...
_TEXT_SUFFIXES = (".log", ".gz", ".txt", ".out")


@dataclass
class LineBlock:
    """Consecutive lines decoded from one read block; `first` is the number of lines[0]."""

    first: int
    lines: list[str]
    text: str  # the same lines joined by "\n", for whole-block regex scans
    # Numbers of the lines that began after a lone \r (a redraw): an editor counts them as part of
    # the line before, so LogLine.shown = n - (how many of these are at or before n).
    after_cr: tuple[int, ...] = ()


def _looks_binary(head: bytes) -> bool:
    """NUL-heavy or control-heavy data is not a log."""
    if not head:
        return False
    if head.count(b"\x00") > max(8, len(head) // 100):
        return True
    # Control bytes other than whitespace, BEL/BS (spinners) and ESC (ANSI colours) are rare in logs.
    ctrl = sum(head.count(bytes([c])) for c in range(1, 32) if c not in (7, 8, 9, 10, 11, 12, 13, 27))
    if ctrl > len(head) // 20:
        return True
    return False  # invalid UTF-8 alone is a legacy encoding (Latin-1, cp1252), not binary


def _encoding(head: bytes) -> str:
    """UTF-8 unless the first block is full of bytes UTF-8 cannot hold: then a Windows/Latin-1 log,
    decoded as cp1252 (every byte maps to a character; nothing is lost to U+FFFD)."""
    bad = head.decode("utf-8", "replace").count("\ufffd")
    return "cp1252" if bad > max(8, len(head) // 200) else "utf-8"


def _name_of(source: Source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return getattr(source, "name", None) or f"<{type(source).__name__}>"


def _is_path_like(text: str) -> bool:
    if text == "-":
        return True
    if "\n" in text or "\r" in text or len(text) > 4096:
        return False
    if os.path.exists(text):
        return True
    return not any(c.isspace() for c in text) and ("/" in text or text.lower().endswith(_TEXT_SUFFIXES))


def _open_binary(source: Source) -> tuple[IO[bytes] | None, str | None, str]:
    """Returns (byte stream, or None with the text itself, name)."""
    name = _name_of(source)
    if isinstance(source, bytes):
        return io.BytesIO(source), None, "<bytes>"
    if isinstance(source, str) and not _is_path_like(source):
        return None, source, "<text>"
    if isinstance(source, (str, os.PathLike)):
        if os.fspath(source) == "-":
            return sys.stdin.buffer, None, "-"
        try:
            return open(source, "rb"), None, name
        except OSError as exc:
            raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from exc
    if isinstance(source, io.TextIOBase):
        return None, None, name
    return source, None, name  # a binary file object


def _maybe_gunzip(stream: IO[bytes], name: str) -> tuple[IO[bytes], bytes]:
    """Wraps gzip input transparently and returns the first bytes for binary sniffing."""
    head = stream.read(SNIFF_BYTES)
    if head[:2] == b"\x1f\x8b":
        rest = _Prefixed(head, stream)
        gz = gzip.GzipFile(fileobj=rest, mode="rb")
        try:
            head = gz.read(SNIFF_BYTES)
        except (OSError, EOFError) as exc:
            raise InputError(f"{name}: corrupt gzip data ({exc})") from exc
        return gz, head
    return stream, head


class _Prefixed(io.RawIOBase):
    """A byte stream that replays `head` before reading on from `rest`."""

    def __init__(self, head: bytes, rest: IO[bytes]):
        self._head, self._rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        if self._head:
            n = min(len(buf), len(self._head))
            buf[:n], self._head = self._head[:n], self._head[n:]
            return n
        data = self._rest.read(len(buf))
        buf[: len(data)] = data
        return len(data)


def _text_chunks(source: Source) -> Iterator[str]:
    """Decoded text in blocks of about BLOCK_BYTES, ANSI codes removed."""
    held = ""
    for chunk in _raw_chunks(source):
        text = held + chunk
        # An escape code cut by the block boundary would survive as "32;1m" text: hold a trailing
        # ESC (and what follows it on its line) back for the next block.
        cut = text.rfind("\x1b", max(0, len(text) - ANSI_HOLD))
        if cut >= 0 and "\n" not in text[cut:] and "\r" not in text[cut:]:
            text, held = text[:cut], text[cut:]
        else:
            held = ""
        yield ANSI.sub("", text)
    if held:
        yield ANSI.sub("", held)


def _raw_chunks(source: Source) -> Iterator[str]:
    """Decoded text in blocks of about BLOCK_BYTES."""
    stream, text, name = _open_binary(source)
    if text is not None:
        for i in range(0, len(text), BLOCK_BYTES):
            yield text[i : i + BLOCK_BYTES]
        return
    if stream is None:  # a text file object
        while chunk := source.read(BLOCK_BYTES):  # type: ignore[union-attr]
            yield chunk
        return
    try:
        stream, head = _maybe_gunzip(stream, name)
        if _looks_binary(head):
            raise InputError(f"{name}: looks like binary data, not a text log")
        decoder = codecs.getincrementaldecoder(_encoding(head))(errors="replace")
        data = head
        while True:
            if data:
                yield decoder.decode(data)
            try:
                data = stream.read(BLOCK_BYTES)
            except (OSError, EOFError) as exc:
                raise InputError(f"{name}: read failed ({exc})") from exc
            if not data:
                break
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail
    finally:
        if stream is not sys.stdin.buffer and hasattr(stream, "close") and not hasattr(source, "read"):
            stream.close()


def _split(body: str, pending_cr: bool) -> tuple[list[str], list[bool] | None]:
    """The lines of `body`, and for each whether it began after a lone \r (None: none did)."""
    # str.split is several times faster than the regex; most logs use \n or \r\n only.
    if "\r" not in body:
        parts, flags = body.split("\n"), None
    else:
        # A lone \r before \r\n ("\r\x1b[0K\r\n" once the ANSI code is gone) must stay a line
        # end: replacing \r\n first would fuse it into a new \r\n and shift every later line.
        flat = body.replace("\r\n", "\n")
        if "\r" not in flat:
            parts, flags = flat.split("\n"), None
        else:
            pieces = NEWLINE.split(body)
            parts = pieces[0::2]
            flags = [pending_cr] + [sep == "\r" for sep in pieces[1::2]]
    if flags is None and pending_cr:
        flags = [True] + [False] * (len(parts) - 1)
    return parts, flags


def iter_blocks(source: Source) -> Iterator[LineBlock]:
    """The log as blocks of whole lines; the fast path for scanners that use block-level regexes."""
    pending = ""
    pending_cr = False  # the pending line began after a lone \r
    n = 1
    skipping = False  # inside an over-long line whose head was already emitted
    for chunk in _text_chunks(source):
        buf = pending + chunk
        # A trailing \r may be the first half of \r\n: keep it for the next chunk.
        hold = 1 if buf.endswith("\r") else 0
        body = buf[: len(buf) - hold] if hold else buf
        parts, flags = _split(body, pending_cr)
        pending = parts.pop() + ("\r" if hold else "")
        pending_cr = flags.pop() if flags else False
        if skipping and parts:
            parts.pop(0)  # the rest of the over-long line ends here
            if flags:
                flags.pop(0)
            skipping = False
        elif skipping:
            pending, pending_cr = "", False
            continue
        if len(pending) > MAX_LINE_CHARS:
            parts.append(pending[:MAX_LINE_CHARS])
            if flags is not None or pending_cr:
                flags = (flags or [False] * (len(parts) - 1)) + [pending_cr]
            pending, pending_cr, skipping = "", False, True
        if parts:
            parts = [p if len(p) <= MAX_LINE_CHARS else p[:MAX_LINE_CHARS] for p in parts]
            after_cr = tuple(compress(count(n), flags)) if flags else ()
            yield LineBlock(n, parts, "\n".join(parts), after_cr)
            n += len(parts)
    if not skipping:
        # The scorer's split yields a final (possibly empty) piece after the last newline; only
        # a non-empty one is a line worth numbering.
        last = pending.rstrip("\r") if pending.endswith("\r") else pending
        after_cr = (n,) if pending_cr else ()
        if pending.endswith("\r"):
            yield LineBlock(n, [last], last, after_cr)
        elif pending:
            yield LineBlock(n, [pending[:MAX_LINE_CHARS]], pending[:MAX_LINE_CHARS], after_cr)


def iter_lines(source: Source) -> Iterator[LogLine]:
    """Yields LogLine(n, text) for every line of the log, ANSI codes stripped."""
    redraws = 0  # lines so far that began after a lone \r
    for block in iter_blocks(source):
        marks = set(block.after_cr)
        for i, text in enumerate(block.lines):
            n = block.first + i
            redraws += n in marks
            yield LogLine(n, text, n - redraws)


def display_name(source: Source) -> str:
    """How to name a source in messages."""
    if isinstance(source, bytes):
        return "<bytes>"
    if isinstance(source, str) and not _is_path_like(source):
        return "<text>"
    return _name_of(source)


__all__ = ["iter_lines", "iter_blocks", "LineBlock", "display_name", "Path", "ANSI"]
