"""`gemops tiers`: flex vs standard vs priority measured headless, and the runs kept since."""

from __future__ import annotations

import sys

import click

from console.commands import plural
from console.services.tier_terms import FLEX_RETRY_ATTEMPTS, FORMATS, ORDERS, PARTS


def _workspace():
    from console.bootstrap import make_workspace
    from console.cli import _settings

    return make_workspace(_settings())


@click.group(invoke_without_command=True)
@click.option("--model", help="the model to test  [default: gemini.default_model]")
@click.option("--prompt", help="the prompt sent on every run")
@click.option("--prompt-file", type=click.Path(dir_okay=False),
              help="read the prompt from this UTF-8 file instead")
# --runs and --concurrency are checked by the plan (PlanError), which knows their limits.
@click.option("--runs", default=5, show_default=True, type=int, help="runs per tier")
@click.option("--tiers", "tier_list", default="flex,standard,priority", show_default=True,
              help="comma-separated tiers to test")
@click.option("--order", type=click.Choice(ORDERS), default="interleaved", show_default=True,
              help="interleaved: a run of every tier per round, so drift hits all alike; "
                   "grouped: tier by tier")
@click.option("--concurrency", default=1, show_default=True, type=int,
              help="calls in flight at once (1 = sequential, like published comparisons)")
@click.option("--timeout-flex", type=click.FloatRange(0, min_open=True), metavar="S",
              help="seconds per flex call  [default: gemini.flex_timeout_s]")
@click.option("--timeout-standard", type=click.FloatRange(0, min_open=True), metavar="S",
              help="seconds per standard call  [default: gemini.timeout_s]")
@click.option("--timeout-priority", type=click.FloatRange(0, min_open=True), metavar="S",
              help="seconds per priority call  [default: gemini.timeout_s]")
@click.option("--retry-flex", is_flag=True,
              help=f"retry flex 503s (up to {FLEX_RETRY_ATTEMPTS} tries within the flex "
                   "timeout); otherwise a 503 is recorded as shed")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--only", type=click.Choice(PARTS), help="print only one of the two tables")
@click.option("--quiet", "-q", is_flag=True, help="no progress lines on stderr")
@click.option("--keep-prompt", is_flag=True,
              help="store the prompt as typed; by default the kept copy is redacted")
@click.pass_context
def tiers(ctx: click.Context, model, prompt, prompt_file, runs, tier_list, order, concurrency,
          timeout_flex, timeout_standard, timeout_priority, retry_flex, fmt, only,
          quiet, keep_prompt) -> None:
    """Measure flex vs standard vs priority: the same prompt N times on each tier.

    Prints a summary per tier (successful runs, avg / min / max / p50 / p95 latency, spread,
    avg output tokens, cost vs standard, failovers) and the per-run breakdown, with the
    fastest, steadiest and cheapest marked and a recommendation computed from the data.
    Latency is the caller's wall time for the whole call (retries included). Every sample is
    kept in SQLite as it arrives: Ctrl+C stops the run and keeps what was measured.

    Sub-commands list, show, compare and delete work on the runs kept so far.
    """
    if ctx.invoked_subcommand is not None:
        return
    from console.services.tiers import (
        PlanError,
        TierPlan,
        Unreachable,
        load_report,
        progress_line,
        render,
    )
    from console.services.tiers import run_tier_test as run_test

    if not prompt and not prompt_file:
        raise click.UsageError("give --prompt or --prompt-file (or a sub-command: "
                               "list, show, compare, delete)")
    ws = _workspace()
    started: list[int] = []
    try:
        try:
            plan = TierPlan.from_settings(
                ws.settings, model=model, prompt=prompt, prompt_file=prompt_file,
                tiers=tier_list, runs_per_tier=runs, order=order, concurrency=concurrency,
                retry_flex=retry_flex, keep_prompt=keep_prompt,
                timeouts={"flex": timeout_flex, "standard": timeout_standard,
                          "priority": timeout_priority},
            )
        except PlanError as error:
            raise click.UsageError(str(error)) from error

        def on_start(run) -> None:
            started.append(run.id)
            if not quiet:
                click.echo(f"tier run #{run.id}: {plural(plan.total, 'call')} on {plan.model} "
                           f"via {_where(ws)}", err=True)

        def on_sample(event) -> None:
            if not quiet:
                click.echo(progress_line(event), err=True)

        try:
            report = run_test(ws, plan, on_start=on_start, on_sample=on_sample)
        except PlanError as error:
            raise click.UsageError(str(error)) from error
        except Unreachable as error:
            raise click.ClickException(f"cannot reach {_where(ws)}: {error}") from error
        except KeyboardInterrupt:
            if not started:
                raise click.Abort() from None
            report = load_report(ws, started[0])
            click.echo(render(report, fmt, only=only), nl=False)
            click.echo(f"interrupted: {report.done} of {plural(report.total, 'sample')} kept "
                       "in tier run "
                       f"#{report.run.id}", err=True)
            sys.exit(130)
        click.echo(render(report, fmt, only=only), nl=False)
    finally:
        ws.close()


def _where(ws) -> str:
    connection = ws.connection
    if ws.settings.gemini.base_url:
        return connection.base_url
    if connection.mode.value == "EMULATOR":
        return "the built-in emulator (no API key: latencies are simulated)"
    return "the Gemini API"


@tiers.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True)
def list_runs(limit: int, as_json: bool) -> None:
    """The latest tier runs, newest first."""
    import json
    from datetime import UTC, datetime

    from console.services.tiers import past_runs

    ws = _workspace()
    try:
        runs = past_runs(ws, limit)
    finally:
        ws.close()
    if as_json:
        click.echo(json.dumps([
            {"id": p.run.id, "created_at": p.run.created_at, "model": p.run.model,
             "tiers": p.run.tiers.split(","), "runs_per_tier": p.run.runs_per_tier,
             "order": p.run.run_order, "concurrency": p.run.concurrency,
             "samples": p.done, "ok": p.ok, "planned": p.total, "status": p.run.status,
             "note": p.run.note}
            for p in runs
        ], indent=2))
        return
    if not runs:
        click.echo("no tier runs yet: gemops tiers --prompt '…' starts one")
        return
    header = (f"{'#':>4}  {'started (UTC)':<16}  {'model':<22}  {'tiers':<24}  {'runs':>4}  "
              f"{'ok/done/planned':>15}  status")
    click.echo(header)
    click.echo("-" * len(header))
    for p in runs:
        r = p.run
        started = datetime.fromtimestamp(r.created_at, tz=UTC).strftime("%Y-%m-%d %H:%M")
        status = f"{r.status} ({r.note})" if r.note else r.status
        click.echo(f"{r.id:>4}  {started:<16}  {r.model:<22}  {r.tiers:<24}  "
                   f"{r.runs_per_tier:>4}  {f'{p.ok}/{p.done}/{p.total}':>15}  {status}")


@tiers.command("show")
@click.argument("run_id", type=int)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--only", type=click.Choice(PARTS), help="print only one of the two tables")
def show(run_id: int, fmt: str, only: str | None) -> None:
    """A kept run's two tables and recommendation."""
    from console.services.tiers import load_report, render

    ws = _workspace()
    try:
        report = load_report(ws, run_id)
    except LookupError as error:
        raise click.ClickException(str(error)) from error
    finally:
        ws.close()
    click.echo(render(report, fmt, only=only), nl=False)


@tiers.command("compare")
@click.argument("run_a", type=int)
@click.argument("run_b", type=int)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
def compare(run_a: int, run_b: int, fmt: str) -> None:
    """Two kept runs side by side, per tier (e.g. this morning vs this afternoon)."""
    from console.services.tiers import load_report, render_comparison

    ws = _workspace()
    try:
        a, b = load_report(ws, run_a), load_report(ws, run_b)
    except LookupError as error:
        raise click.ClickException(str(error)) from error
    finally:
        ws.close()
    click.echo(render_comparison(a, b, fmt), nl=False)


@tiers.command("delete")
@click.argument("run_id", type=int)
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def delete(run_id: int, yes: bool) -> None:
    """Delete a kept run and its samples."""
    from console.services.tiers import delete_run

    if not yes:
        click.confirm(f"delete tier run #{run_id} and all its samples?", abort=True)
    ws = _workspace()
    try:
        deleted = delete_run(ws, run_id)
    finally:
        ws.close()
    if not deleted:
        raise click.ClickException(f"no tier run #{run_id}")
    click.echo(f"deleted tier run #{run_id}")
