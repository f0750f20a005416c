"""`gemops logs list|show`: browse the sanitized interaction log from a shell."""

from __future__ import annotations

import json

import click

from console.commands import plural

_filter_options = [
    click.option("--label", "labels", multiple=True, metavar="KEY=VALUE",
                 help="only interactions with this label (repeat: all must match)"),
    click.option("--model", "models", multiple=True, help="only this model (repeat: any)"),
    click.option("--source", "sources", multiple=True, help="only this source (repeat: any)"),
    click.option("--since", metavar="DATE", help="from this date (YYYY-MM-DD), or a span (7d)"),
    click.option("--until", metavar="DATE", help="up to this date (inclusive of a whole day)"),
    click.option("--text", help="only interactions whose sanitized text contains this"),
]


def _with_filters(command):
    for option in reversed(_filter_options):
        command = option(command)
    return command


@click.group()
def logs() -> None:
    """Browse logged interactions (sanitized before they were written)."""


@logs.command("list")
@_with_filters
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
def list_(labels, models, sources, since, until, text, limit, as_json) -> None:
    """The newest interactions matching the filter, with the filter's count and token totals."""
    from console.bootstrap import make_workspace
    from console.cli import _settings
    from console.services.export import ExportError, iso_time, make_filter
    from console.services.interactions import interaction_totals, recent_interactions

    try:
        flt = make_filter(labels=labels, models=models, sources=sources, since=since,
                          until=until, text=text)
    except ExportError as error:
        from console.commands import filter_option

        raise click.BadParameter(str(error),
                                 param_hint=filter_option(error, since, until)) from error
    ws = make_workspace(_settings())
    try:
        rows = recent_interactions(ws, limit=limit, flt=flt)
        totals = interaction_totals(ws, flt)
    finally:
        ws.close()
    if as_json:
        for i in rows:
            click.echo(json.dumps({
                "id": i.id, "time": iso_time(i.at), "model": i.model, "tier": i.tier,
                "source": i.source, "labels": i.labels, "prompt_tokens": i.prompt_tokens,
                "output_tokens": i.output_tokens, "thought_tokens": i.thought_tokens,
                "cost": i.cost,
            }))
        return
    if not rows:
        click.echo("no logged interactions match")
        return
    click.echo(f"{'id':>8}  {'time (UTC)':<19}  {'model':<22} {'source':<10} "
               f"{'in/out tokens':>14}  labels")
    for i in rows:
        labels_text = " ".join(f"{k}={v}" for k, v in sorted(i.labels.items()))
        tokens = f"{i.prompt_tokens}/{i.output_tokens}"
        click.echo(f"{i.id:>8}  {iso_time(i.at)[:19].replace('T', ' '):<19}  {i.model:<22} "
                   f"{i.source:<10} {tokens:>14}  {labels_text}")
    shown = f"showing {len(rows):,} of " if totals.count > len(rows) else ""
    click.echo(f"{shown}{plural(totals.count, 'interaction')} · {totals.prompt_tokens:,} prompt + "
               f"{plural(totals.output_tokens, 'output token')} · ${totals.cost:.4f}")


@logs.command()
@click.argument("interaction_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="the stored record as JSON")
def show(interaction_id: int, as_json: bool) -> None:
    """One interaction in full: labels, system instruction, every turn, the response."""
    from console.bootstrap import make_workspace
    from console.cli import _settings
    from console.services.interactions import get_interaction, render_interaction

    ws = make_workspace(_settings())
    try:
        found = get_interaction(ws, interaction_id)
    finally:
        ws.close()
    if found is None:
        raise click.ClickException(f"no logged interaction {interaction_id}")
    if as_json:
        record = {
            "id": found.id, "at": found.at, "model": found.model, "tier": found.tier,
            "source": found.source, "labels": found.labels,
            "prompt_tokens": found.prompt_tokens, "output_tokens": found.output_tokens,
            "thought_tokens": found.thought_tokens, "cost": found.cost,
            "system_instruction": found.system_instruction,
            "contents": json.loads(found.contents_json), "response": found.response_text,
        }
        click.echo(json.dumps(record, indent=2, ensure_ascii=False))
        return
    click.echo(render_interaction(found))
