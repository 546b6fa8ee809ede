"""cibot's Slack bot, CLI and answer engine."""

__version__ = "0.1.0"
