"""cibot on Slack: the Bolt app (app.py), its listeners, and how answers are asked, queued, posted
and shown (answering, pool, blocks, sanitize, alerts, inputs, modal, attachments).

The pure formatters import nothing from Slack's SDK, so they are cheap to import and test; app.py
and the listeners are the edges. The HTTP server that carries Slack's events is bot/server/.
"""
