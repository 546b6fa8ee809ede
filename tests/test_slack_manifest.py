"""The Slack app manifest asks for exactly what the listeners use."""
from __future__ import annotations

from pathlib import Path

import yaml

MANIFEST = Path(__file__).resolve().parent.parent / "deploy" / "slack-app-manifest.yaml"


def test_manifest_declares_surfaces_and_minimal_scopes():
    data = yaml.safe_load(MANIFEST.read_text())
    features, settings = data["features"], data["settings"]
    assert [c["command"] for c in features["slash_commands"]] == ["/ci-why"]
    assert [(s["type"], s["callback_id"]) for s in features["shortcuts"]] == [("message", "explain_failure")]
    assert settings["socket_mode_enabled"] is True and settings["interactivity"]["is_enabled"] is True
    events = set(settings["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "message.channels", "reaction_added", "reaction_removed"} <= events
    scopes = set(data["oauth_config"]["scopes"]["bot"])
    assert scopes == {"app_mentions:read", "chat:write", "commands", "im:history", "channels:history",
                      "groups:history", "reactions:read", "files:read"}


def test_every_subscribed_event_has_its_scope():
    data = yaml.safe_load(MANIFEST.read_text())
    needs = {"app_mention": "app_mentions:read", "message.im": "im:history", "message.channels": "channels:history",
             "message.groups": "groups:history", "reaction_added": "reactions:read", "reaction_removed": "reactions:read"}
    scopes = set(data["oauth_config"]["scopes"]["bot"])
    for event in data["settings"]["event_subscriptions"]["bot_events"]:
        assert needs[event] in scopes
