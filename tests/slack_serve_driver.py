"""Runs `cibot serve` in a subprocess with the answer engine replaced by FakeEngine.

Everything else is real: settings from the environment, the SQLite store, Bolt, the HTTP server.
FAKE_ENGINE_DELAY (seconds) makes each answer take that long.
"""
import os
import sys
import types

sys.path.insert(0, os.path.dirname(__file__))
from slack_fakes import FakeEngine  # noqa: E402

runtime = types.ModuleType("bot.runtime")
runtime.build_engine = lambda settings, **kw: FakeEngine(delay=float(os.environ.get("FAKE_ENGINE_DELAY", "0")))
sys.modules["bot.runtime"] = runtime

from bot.cli import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
