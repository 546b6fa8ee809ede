"""`cibot adapters list|promote|rollback`: the versioned LoRA adapters under CIBOT_HOME/adapters."""
from __future__ import annotations

import typer

from bot.commands.context import state
from bot.commands.output import emit_json
from retrieval.errors import CibotError, UsageError
from training.registry import AdapterRegistry


def _registry(ctx: typer.Context):
    registry = AdapterRegistry(state(ctx).settings.paths.adapters)
    registry.ensure_default(base=state(ctx).settings.model.base)
    return registry


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="List, promote and roll back LoRA adapter versions.", no_args_is_help=True)

    @group.command("list", help="Every version, its base model, data hash and metrics.")
    def list_cmd(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
        registry = _registry(ctx)
        current = registry.current()
        rows = []
        for version in registry.versions():
            try:
                meta = registry.verify(version)
                status = "ok"
            except CibotError as exc:
                meta, status = {}, f"corrupt: {exc.message}"
            metrics = {k: v for k, v in (meta.get("metrics") or {}).items() if k != "samples"}
            rows.append({"version": version, "current": version == current, "status": status,
                         "base": meta.get("base"), "created": meta.get("created"),
                         "train_examples": meta.get("train_examples"), "data_hash": meta.get("data_hash"),
                         "metrics": metrics})
        if as_json:
            emit_json({"current": current, "versions": rows})
            return
        if not rows:
            print("no adapters yet (run `cibot train`)")
        for r in rows:
            m = r["metrics"]
            print(f"{'*' if r['current'] else ' '} {r['version']:<10} {r['status']:<8} base={r['base']} "
                  f"examples={r['train_examples']} format={m.get('format_compliance')} "
                  f"id_recall={m.get('id_recall')} created={r['created']}")

    @group.command("promote", help="Make VERSION the adapter that answers.")
    def promote_cmd(ctx: typer.Context, version: str = typer.Argument(...)) -> None:
        from bot.commands.context import state

        registry = _registry(ctx)
        base = state(ctx).settings.model.base
        trained_on = registry.meta(version).get("base", "embedded")
        if trained_on != base:
            raise UsageError(f"adapter {version} was trained on base '{trained_on}', but model.base is '{base}'",
                             hint=f"promote a version trained on '{base}' (`cibot adapters list`)")
        registry.promote(version)
        print(f"current adapter: {version}")

    @group.command("rollback", help="Go back to the adapter that was current before.")
    def rollback_cmd(ctx: typer.Context) -> None:
        registry = _registry(ctx)
        print(f"current adapter: {registry.rollback()}")

    @group.command("export", help="Copy VERSION (verified) to DIR, e.g. to ship it as the default adapter.")
    def export_cmd(ctx: typer.Context, version: str = typer.Argument(...), dest: str = typer.Argument(...)) -> None:
        from pathlib import Path

        print(f"exported {version} to {_registry(ctx).export(version, Path(dest))}")

    app.add_typer(group, name="adapters")
