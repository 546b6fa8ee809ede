"""`cibot serve`'s lifecycle: check secrets, open the store, load the engine in the background,
start the scheduler, serve HTTP (and Socket Mode), and shut down cleanly on SIGTERM/SIGINT."""
from __future__ import annotations

import logging
import signal
import threading
from concurrent.futures import Future

from bot.learning.hotswap import AdapterWatcher
from bot.server.observability import Readiness
from bot.slack.deps import SlackDeps
from retrieval.errors import ConfigError
from training.registry import AdapterRegistry

log = logging.getLogger(__name__)
ENGINE_WAIT_S = 900.0  # the first start installs the model; later starts take seconds

REQUIRED = {
    "http": (("bot_token", "SLACK_BOT_TOKEN"), ("signing_secret", "SLACK_SIGNING_SECRET")),
    "socket": (("bot_token", "SLACK_BOT_TOKEN"), ("app_token", "SLACK_APP_TOKEN")),
}


def missing_secrets(settings, mode: str) -> list[str]:
    return [env for field, env in REQUIRED[mode] if getattr(settings.slack, field) is None
            or not getattr(settings.slack, field).get_secret_value()]


def check_secrets(settings, mode: str) -> None:
    """Fail before anything binds a port, naming every missing variable on one line."""
    missing = missing_secrets(settings, mode)
    if missing:
        raise ConfigError(f"{mode} mode needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not set",
                          hint=f"export {'it' if len(missing) == 1 else 'them'}, or set slack.* in cibot.toml")


def engine_loader(settings, readiness: Readiness, on_loaded=lambda engine: None):
    """Start building the engine in a thread; return a getter that waits for it."""
    future: Future = Future()

    def load() -> None:
        try:
            from bot.runtime import build_engine

            engine = build_engine(settings)
        except BaseException as exc:  # noqa: BLE001 - the server stays up, not ready, and says why
            log.exception("engine failed to load")
            readiness.fail("model", f"{type(exc).__name__}: {exc}")
            readiness.fail("index", "engine not loaded")
            future.set_exception(exc)
            return
        on_loaded(engine)
        readiness.loaded("model")
        readiness.loaded("index")
        future.set_result(engine)

    threading.Thread(target=load, name="cibot-engine-load", daemon=True).start()
    return lambda: future.result(timeout=ENGINE_WAIT_S)


def start_adapter_watcher(settings, generator):
    """Publish the serving adapter, then follow the registry's `current` pointer (hot swap)."""
    if generator is None:
        return None
    from bot.server.observability import set_adapter

    info = generator.info()
    set_adapter(info.adapter, info.base)
    if not hasattr(generator, "swap_adapter"):  # a remote backend swaps adapters itself
        return None

    return AdapterWatcher(AdapterRegistry(settings.paths.adapters), generator).start()


def start_scheduler(settings):
    try:
        from bot.learning.scheduler import start_scheduler as start
    except ImportError:
        log.info("no scheduler module; skipping")
        return None
    return start(settings)


def build_deps(settings, readiness: Readiness, engine=None) -> SlackDeps:
    from bot.store import Store

    store = Store.open(settings.store_url)
    readiness.register("database", lambda: _ping(store))
    deps = SlackDeps(settings=settings, store=store, engine=engine or (lambda: None), readiness=readiness)

    def index_feedback(loaded) -> None:
        # Thumbs-up answers become incidents in the same index the engine retrieves from.
        deps.feedback.index = getattr(getattr(loaded, "retriever", None), "index", None)
        try:  # a crash between a vote and its index update left them apart: bring them together
            deps.feedback.reconcile()
        except Exception:
            log.exception("could not reconcile the feedback index with the votes")
        deps.watcher = start_adapter_watcher(settings, getattr(loaded, "generator", None))

    if engine is None:
        deps.engine = engine_loader(settings, readiness, index_feedback)
    return deps


def _ping(store) -> bool:
    from sqlalchemy import text

    with store.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return True


def serve(settings, mode: str, host: str, port: int, *, scheduler: bool = True, announce=print) -> None:
    """Run until SIGTERM/SIGINT. Secrets are checked first, so nothing binds without them."""
    from bot.server.http import start_http
    from bot.slack.app import build_app

    check_secrets(settings, mode)
    readiness = Readiness()
    deps = build_deps(settings, readiness)
    try:
        app = build_app(deps)
    except Exception as exc:  # auth.test failed: a bad token or an unreachable Slack
        raise ConfigError(f"cannot start the Slack app: {exc}", hint="check SLACK_BOT_TOKEN and CIBOT_SLACK_API_URL") from None
    server, _ = start_http(deps, app, host, port)
    announce(f"cibot: listening on {server.url} ({mode} mode)")
    socket_handler = _start_socket(app, settings) if mode == "socket" else None
    job = start_scheduler(settings) if scheduler and settings.scheduler.enabled else None
    _wait_for_signal()
    log.info("shutting down")
    server.shutdown()
    if socket_handler is not None:
        socket_handler.close()
    if job is not None and hasattr(job, "shutdown"):
        job.shutdown(wait=False)
    if getattr(deps, "watcher", None) is not None:
        deps.watcher.stop()
    deps.pool.shutdown(wait=False)
    deps.store.close()


def _start_socket(app, settings):
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(app, app_token=settings.slack.app_token.get_secret_value())
    handler.connect()
    return handler


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
