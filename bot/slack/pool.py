"""A bounded pool for answer generation, off Slack's request path.

Bolt's own listener threads must stay free to acknowledge within 3 s, so answers run here. The
bound keeps a burst from queueing minutes of work: past it, the asker is told we are busy.
"""
from __future__ import annotations

import contextvars
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from bot.server.observability import QUEUE_DEPTH

log = logging.getLogger(__name__)


class WorkPool:
    def __init__(self, workers: int, max_pending: int):
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cibot-answer")
        self._slots = threading.BoundedSemaphore(max_pending)

    def submit(self, fn: Callable[[], None]) -> bool:
        """Run `fn` in the pool with the caller's context (request id); False when full."""
        if not self._slots.acquire(blocking=False):
            return False
        QUEUE_DEPTH.inc()
        ctx = contextvars.copy_context()

        def run() -> None:
            try:
                ctx.run(fn)
            except Exception:  # the job reports its own errors; this is the last guard
                log.exception("answer job failed")
            finally:
                QUEUE_DEPTH.dec()
                self._slots.release()

        self._executor.submit(run)
        return True

    def shutdown(self, wait: bool = True) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=not wait)
