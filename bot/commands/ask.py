"""`cibot ask [QUESTION] [--log FILE|-] [--url JOB_URL] [--pass-log FILE] [--scope CHANNEL] [--format text|json] [--json]`.

Answers one question or explains one log from the terminal, with the same engine the Slack bot
uses. `--url` fetches a GitHub Actions, GitLab CI or Jenkins job's log (and its last passing log
and CI config) from a configured provider, as the bot does for a link. `--json` (or `--format json`) prints one JSON object, the Answer.to_json() contract published
in bot/data/answer.schema.json; otherwise a short report meant for a person.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from bot.ci.providers import Providers
from bot.ci.target import target_from_url
from bot.commands.context import state
from bot.engine.answer import AnswerRequest
from retrieval.errors import InputError, UsageError
from retrieval.logs.evidence import pick_evidence
from retrieval.types import Scope


def register(app: typer.Typer) -> None:
    @app.command("ask", help="Ask why CI failed (attach a log) or ask the team's knowledge base.")
    def ask(
        ctx: typer.Context,
        question: Optional[str] = typer.Argument(None, help="The question; may start with rag:, json:, explain:."),
        log: Optional[str] = typer.Option(None, "--log", help="The failing job's log file (.gz ok), or - for stdin."),
        url: Optional[str] = typer.Option(None, "--url", help="A failed job's (or run's) link on a configured "
                                          "GitHub, GitLab or Jenkins: fetch its log and answer."),
        pass_log: Optional[Path] = typer.Option(None, "--pass-log", help="A passing run of the same job."),
        scope: Optional[str] = typer.Option(None, "--scope", help="Answer as in this Slack channel (its sources)."),
        fmt: str = typer.Option("text", "--format", help="text or json."),
        as_json: bool = typer.Option(False, "--json", help="Print the answer as one JSON object."),
        ci_config: Optional[Path] = typer.Option(None, "--ci-config", help="The CI config (workflow YAML, "
                                                 ".gitlab-ci.yml, Jenkinsfile, ...) of the failing job."),
        no_model: bool = typer.Option(False, "--no-model", help="Retrieval and log analysis only; no LLM."),
        debug: bool = typer.Option(False, "--debug", hidden=True, help="Same as the global --debug."),
    ) -> None:

        if fmt not in ("text", "json"):
            raise UsageError(f"--format must be text or json, not {fmt!r}")
        st = state(ctx)
        debug = debug or st.debug
        if url is not None:
            if log is not None:
                raise UsageError("give --log or --url, not both")
            answer_url(st.settings, url, question or "", scope, "json" if as_json else fmt, no_model, debug)
            return
        request = build_request(question, log, pass_log, scope, fmt, ci_config)
        engine = _engine(st.settings, with_model=not no_model)
        answer = engine.answer(request)
        if as_json or fmt == "json":
            from bot.commands.output import emit_json

            doc = answer.to_json()
            if debug:
                doc["debug"] = answer.debug
            emit_json(doc)
        else:
            sys.stdout.write(render_text(answer, debug=debug))


def answer_url(settings, url: str, question: str, scope, fmt: str, no_model: bool, debug: bool) -> None:
    """Fetch the job's logs, then answer as the bot does. JSON mode answers the first failed job
    (one object, the same contract); text mode answers each failed job of a run."""
    from bot.ci import answers

    providers = Providers(settings)
    target = target_from_url(url, providers.hosts)
    if target is None:
        raise UsageError(f"not a job or run link of a configured CI provider: {url}",
                         hint="cibot fetches only from the hosts in CIBOT_GITHUB__API_URL/WEB_URL, "
                              "CIBOT_GITLAB__URL and CIBOT_JENKINS__URL")
    fetched = providers.fetch(target)
    try:
        jobs = [job for job in fetched.jobs if job.log is not None]
        if not jobs:
            raise InputError("; ".join(answers.problems(fetched)) or f"no failed job log found at {url}")
        engine = _engine(settings, with_model=not no_model)
        missing = answers.problems(fetched)
        if fmt == "json":
            jobs = jobs[:1]
            others = [job.name for job in fetched.jobs[1:]]
            if others:
                missing.append(f"{len(others)} more failed job(s): {', '.join(others)} (not answered in --json)")
        for index, job in enumerate(jobs):
            request = answers.job_request(job, question=question, scope=Scope(channel=scope), format=fmt)
            answer = answers.with_note(engine.answer(request), answers.job_note(job, missing if index == 0 else []))
            if fmt == "json":
                from bot.commands.output import emit_json

                doc = answer.to_json()
                if debug:
                    doc["debug"] = answer.debug
                emit_json(doc)
            else:
                if len(fetched.jobs) > 1:
                    sys.stdout.write(f"== job {job.name} ==\n")
                sys.stdout.write(render_text(answer, debug=debug))
    finally:
        fetched.close()


def build_request(question, log, pass_log, scope, fmt, ci_config):
    if not (question or "").strip() and log is None:
        raise UsageError("give a question or a log", hint="cibot ask 'why did CI fail?' --log build.log")
    log_source = None
    if log is not None:
        if log == "-":
            log_source = sys.stdin.buffer.read()
        else:
            path = Path(log)
            if not path.is_file():
                raise InputError(f"log file not found: {log}")
            log_source = path
    for name, path in (("--pass-log", pass_log), ("--ci-config", ci_config)):
        if path is not None and not path.is_file():
            raise InputError(f"{name} file not found: {path}")
    return AnswerRequest(question=question or "", log=log_source, pass_log=pass_log, ci_config=ci_config,
                         scope=Scope(channel=scope), format=fmt)


def _engine(settings, with_model: bool):
    from bot.runtime import build_engine

    def say(message: str) -> None:
        if sys.stderr.isatty():
            print(f"cibot: {message}...", file=sys.stderr)

    return build_engine(settings, with_model=with_model, progress=say)


def render_text(answer, debug: bool = False) -> str:
    """What a person wants in a terminal: cause, fix, the lines that show it, where it came from."""
    out = [f"Root cause: {answer.root_cause}", f"Fix:        {answer.fix}"]
    if answer.note:
        out.append(f"Note:       {answer.note}")
    if answer.evidence:
        out.append("")
        out.append("Evidence" + (f" (step: {answer.step})" if answer.step else "") + ":")
        shown = _key_evidence(answer)
        width = len(str(shown[-1].at))
        out += [f"  {ln.at:>{width}} | {ln.text}" for ln in shown]
        if len(shown) < len(answer.evidence):
            out.append(f"  ({len(answer.evidence) - len(shown)} more lines with --json)")
    if answer.config_evidence:
        out.append("")
        out.append("CI config:")
        out += [f"  {c.file}:{c.n} | {c.text.strip()}" for c in answer.config_evidence]
    if answer.sources:
        out.append("")
        out.append("Sources:")
        out += [f"  - {s.title} ({s.uri}) score {s.score:.2f}" for s in answer.sources]
    model = answer.model or {}
    out.append("")
    out.append(f"route {answer.route} · confidence {answer.confidence:.2f} · model {model.get('base')}"
               f"{'@' + str(model.get('adapter')) if model.get('adapter') else ''} · "
               f"{answer.timings.get('total', 0.0):.2f}s")
    if debug:
        out += _render_debug(answer)
    return "\n".join(out) + "\n"


TERMINAL_EVIDENCE = 12


def _key_evidence(answer) -> list:
    """The evidence lines that best support the answer, so a terminal shows the failure, not
    the download spam around it; --json keeps them all."""

    return pick_evidence(answer.evidence, f"{answer.root_cause} {answer.fix}", TERMINAL_EVIDENCE)


def _render_debug(answer) -> list[str]:
    route = answer.debug.get("route", {})
    out = ["", f"debug: route {route.get('route')} via {route.get('source')} "
               f"(confidence {route.get('confidence')})"]
    out.append("  scores:   " + ", ".join(f"{k}={v}" for k, v in route.get("scores", {}).items()))
    out.append("  features: " + ", ".join(f"{k}={v}" for k, v in route.get("features", {}).items()))
    if route.get("contributions"):
        out.append("  weight toward route: " + ", ".join(f"{k}={v:+.2f}" for k, v in route["contributions"].items()))
    out.append("  timings:  " + ", ".join(f"{k}={v * 1000:.0f}ms" for k, v in answer.timings.items()))
    out.append(f"  retrieved: {answer.debug.get('retrieved')}")
    out.append(f"  prompt tokens {answer.debug.get('prompt_tokens')}, parsed {answer.debug.get('parsed')}, "
               f"grounding {answer.debug.get('grounding')}")
    if answer.debug.get("findings"):
        out.append(f"  config findings: {answer.debug['findings']}")
    return out
