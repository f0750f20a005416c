"""`gemops quality report|judge`: the judge model's daily quality report from a shell."""

from __future__ import annotations

import click


@click.group()
def quality() -> None:
    """Answer quality as scored by the judge model (every Nth logged answer)."""


@quality.command("report")
@click.option("--since", default="7d", show_default=True, metavar="WHEN",
              help="a span back from now (7d, 24h) or a date (YYYY-MM-DD)")
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE",
              help="only answers with this label (repeat: all must match)")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json"]),
              default="table", show_default=True)
@click.option("--worst", default=10, show_default=True, type=click.IntRange(0, 1000),
              help="how many of the worst-scored answers to list")
def report(since: str, labels: tuple[str, ...], fmt: str, worst: int) -> None:
    """Daily accuracy, tone and hallucination rate per model and labels, against the
    `quality.alert_hallucination_rate` threshold."""
    from console.bootstrap import make_workspace
    from console.cli import _settings
    from console.services.export import ExportError, parse_moment
    from console.services.quality import parse_labels, quality_report, render_report

    ws = make_workspace(_settings())
    try:
        try:
            moment = parse_moment(since, now=ws.clock())
            wanted = parse_labels(labels)
        except (ExportError, ValueError) as error:
            raise click.BadParameter(str(error)) from error
        result = quality_report(ws, since=moment, labels=wanted, worst=worst)
        click.echo(render_report(result, fmt))
    finally:
        ws.close()


@quality.command("judge")
def judge() -> None:
    """Judge what was logged since the last pass now (the sync loop does this on its own)."""
    from console.bootstrap import make_workspace
    from console.cli import _settings
    from console.services.quality import judge_new

    ws = make_workspace(_settings())
    try:
        tick = judge_new(ws)
        click.echo(f"looked at {tick.seen:,} answers, sampled {tick.sampled:,}, judged "
                   f"{tick.judged:,}, failed {tick.failed:,}")
        if tick.alert is not None:
            click.echo(tick.alert.text, err=True)
    finally:
        if ws.connected:
            ws.gateway.flush_ledger()
        ws.close()
