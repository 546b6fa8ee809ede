"""One module per `cibot` subcommand; each exposes register(app). Thin: parse, call, print."""
