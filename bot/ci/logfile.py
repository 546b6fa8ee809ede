"""A fetched log in a temporary file: streamed in chunks, capped, keeping the tail.

Memory stays at one chunk whatever the log's size. Disk stays under twice the cap: when the file
passes 2 x cap, its last `cap` bytes move to a fresh file. The raw log lives only here, in a
private temporary folder, until the answer is done; everything stored or indexed later is the
engine's redacted excerpt.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

COPY_BLOCK = 1 << 20


class LogFile:
    def __init__(self, path: Path, size: int, skipped: int):
        self.path, self.size, self.skipped = path, size, skipped

    @property
    def truncated(self) -> bool:
        return self.skipped > 0

    def read_text(self) -> str:
        return self.path.read_text(encoding="utf-8", errors="replace")

    def close(self) -> None:
        shutil.rmtree(self.path.parent, ignore_errors=True)


def save_stream(chunks: Iterable[bytes], cap: int, name: str = "job.log") -> LogFile:
    """Write chunks to a temporary file; beyond `cap` bytes, only the last `cap` are kept."""
    folder = Path(tempfile.mkdtemp(prefix="cibot-ci-"))
    path = folder / name
    written = skipped = 0
    out = open(path, "wb")
    try:
        for chunk in chunks:
            if not chunk:
                continue
            out.write(chunk)
            written += len(chunk)
            if written > 2 * cap:
                out.close()
                skipped += _keep_tail(path, written, cap)
                written = cap
                out = open(path, "ab")
    except BaseException:
        out.close()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    out.close()
    if written > cap:
        skipped += _keep_tail(path, written, cap)
        written = cap
    return LogFile(path, written, skipped)


def _keep_tail(path: Path, size: int, cap: int) -> int:
    """Replace the file by its last `cap` bytes, starting at a line boundary; returns bytes dropped."""
    start = size - cap
    tmp = path.with_suffix(".tail")
    with open(path, "rb") as src, open(tmp, "wb") as dst:
        src.seek(start)
        head = src.read(min(COPY_BLOCK, cap))
        cut = head.find(b"\n")
        if 0 <= cut < len(head) - 1:  # drop the partial first line
            head = head[cut + 1:]
            start += cut + 1
        dst.write(head)
        shutil.copyfileobj(src, dst, COPY_BLOCK)
    os.replace(tmp, path)
    return start
