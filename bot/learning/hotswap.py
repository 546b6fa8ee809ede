"""Hot swap: a running bot follows the registry's `current` pointer, so a promotion (or a
rollback) reaches every replica within one poll, with no restart and no failed request."""
from __future__ import annotations

import logging
import threading
from typing import Any

from retrieval.errors import CibotError

log = logging.getLogger(__name__)


class AdapterWatcher:
    """Polls registry.current() and calls generator.swap_adapter(path, version) when it changes.
    LocalGenerator.swap_adapter waits for the request in flight, so none fails. A corrupt or
    foreign-base version is refused once and the adapter in service stays."""

    def __init__(self, registry: Any, generator: Any, interval_s: float = 10.0):
        self.registry, self.generator, self.interval_s = registry, generator, interval_s
        self.refused: dict[str, str] = {}  # version -> why; not retried until current moves on
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def serving(self) -> str | None:
        return self.generator.info().adapter

    def check(self) -> str | None:
        """One poll. Returns the version swapped in, or None when nothing changed."""
        wanted = self.registry.current()
        if wanted == self.serving() or wanted in self.refused:
            return None
        if wanted is None:  # the pointer was removed: keep serving what we have
            return None
        try:
            meta = self.registry.verify(wanted)
            base = getattr(self.generator, "base", None)
            if base and meta.get("base", base) != base:
                raise CibotError(f"adapter {wanted} was trained on {meta.get('base')}, not {base}")
            self.generator.swap_adapter(self.registry.path(wanted), wanted)
        except CibotError as exc:
            self.refused[wanted] = str(exc)
            log.error("not switching to adapter %s: %s; still serving %s", wanted, exc, self.serving())
            return None
        log.info("now serving adapter %s", wanted)
        _publish(wanted, getattr(self.generator, "base", None))
        return wanted

    def start(self) -> "AdapterWatcher":
        self._thread = threading.Thread(target=self._loop, name="adapter-watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval_s + 5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.check()
            except Exception:  # a bad poll must not end the watcher
                log.exception("adapter watcher poll failed")


def _publish(version: str, base: str | None) -> None:
    try:
        from bot.server.observability import set_adapter
    except ImportError:
        return
    set_adapter(version, base)
