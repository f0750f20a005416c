"""`gemops export`: logged interactions as a dataset file (Gemini tuning JSONL, OpenAI JSONL, CSV)."""

from __future__ import annotations

import sys

import click


@click.command()
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE",
              help="only interactions with this label (repeat: all must match)")
@click.option("--model", "models", multiple=True, help="only this model (repeat: any of them)")
@click.option("--source", "sources", multiple=True,
              help="only this source, e.g. console, tiers, drop, batch (repeat: any of them)")
@click.option("--since", metavar="DATE",
              help="from this date (YYYY-MM-DD, UTC), ISO date-time, or span back (7d, 24h)")
@click.option("--until", metavar="DATE",
              help="up to this date, inclusive of a whole YYYY-MM-DD day; or an ISO date-time")
@click.option("--text", help="only interactions whose sanitized text contains this")
@click.option("--format", "fmt", type=click.Choice(["gemini", "openai", "csv"]),
              default="gemini", show_default=True,
              help="gemini: tuning JSONL {contents, systemInstruction}; openai: {messages}; "
                   "csv: flat columns")
@click.option("--out", "out", required=True, metavar="FILE",
              help="the file to write (replaced only once complete); '-' for stdout")
@click.option("--quiet", is_flag=True, help="no progress or summary on stderr")
def export(labels, models, sources, since, until, text, fmt, out, quiet) -> None:
    """Export logged (already sanitized) interactions, oldest first, as a dataset.

    Rows stream from the database, so memory stays flat however many there are. The summary
    (rows, tokens, file) goes to stderr.
    """
    from console.bootstrap import make_workspace
    from console.cli import _settings
    from console.services.export import (
        ExportError,
        export_interactions,
        export_to_stream,
        make_filter,
    )

    try:
        flt = make_filter(labels=labels, models=models, sources=sources, since=since,
                          until=until, text=text)
    except ExportError as error:
        from console.commands import filter_option

        raise click.BadParameter(str(error),
                                 param_hint=filter_option(error, since, until)) from error
    ws = make_workspace(_settings())
    try:
        if out == "-":
            summary = export_to_stream(ws, sys.stdout.buffer, fmt=fmt, flt=flt)
        else:
            summary = export_interactions(
                ws, out, fmt=fmt, flt=flt, progress=None if quiet else _progress_line()
            )
    except ExportError as error:
        raise click.ClickException(str(error)) from error
    finally:
        ws.close()
    if not quiet:
        # Over the progress line, when there was one.
        clear = "\r\x1b[K" if out != "-" and sys.stderr.isatty() else ""
        click.echo(clear + summary.line(), err=True)


def _progress_line():
    """A progress line on stderr, rewritten in place when stderr is a terminal."""
    interactive = sys.stderr.isatty()

    def show(done: int, total: int) -> None:
        if interactive and total:
            click.echo(f"\rexporting {done:,}/{total:,} ({100 * done // total}%)", err=True,
                       nl=False)

    return show
