"""cibot on Slack: the Bolt app, its listeners, and the HTTP server for events and CI webhooks.

Pure formatters (blocks, sanitize, alerts, inputs, modal, webhooks) import nothing from Slack's SDK,
so they are cheap to import and test; app.py, server.py and the listeners are the edges.
"""
