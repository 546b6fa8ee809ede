"""`cibot retrain`: placeholder until its issue lands."""
import typer

from retrieval.errors import CibotError


def register(app: typer.Typer) -> None:
    @app.command("retrain", help="(not implemented yet)", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def _cmd(ctx: typer.Context) -> None:
        raise CibotError("'cibot retrain' is not implemented yet")
