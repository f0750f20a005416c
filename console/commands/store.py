"""`gemops store migrate|copy`: bring a database's schema up to date, and move a local SQLite
file into a team's PostgreSQL database (`store.url`)."""

from __future__ import annotations

import click


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a plain path
        return url


@click.group()
def store() -> None:
    """The database: migrate it, or copy it into another (SQLite -> PostgreSQL)."""


@store.command()
@click.option("--url", help="this database instead of the configured one (a path or a URL)")
def migrate(url: str | None) -> None:
    """Run the schema's migration steps on the configured database (start-up does the same)."""
    from console.cli import _settings
    from store.engine import StoreError, make_engine
    from store.migrations import current_version, latest_version
    from store.migrations import migrate as run

    where = url or _settings().store_url
    engine = make_engine(where)
    try:
        before = current_version(engine)
        reached = run(engine)
    except StoreError as error:
        raise click.ClickException(str(error)) from error
    finally:
        engine.dispose()
    if before == reached:
        click.echo(f"{_redacted(where)}: schema version {reached}, up to date")
    else:
        click.echo(f"{_redacted(where)}: schema version {before} -> {reached} "
                   f"(latest {latest_version()})")


@store.command()
@click.option("--to", "target", required=True, metavar="URL",
              help="the database to fill, e.g. postgresql+psycopg://user@host/gemops")
@click.option("--from", "source", metavar="PATH|URL",
              help="the database to read (default: the configured local SQLite file)")
def copy(target: str, source: str | None) -> None:
    """Copy every row of the local database into a new, empty one (both are migrated first),
    then set `store.url` to it. Stop watchers and consoles on the local file first."""
    from console.cli import _settings
    from store.engine import StoreError, make_engine
    from store.migrations import migrate as run
    from store.transfer import copy_rows

    settings = _settings()
    source = source or str(settings.db_path)
    engines = []
    try:
        src = make_engine(source)
        engines.append(src)
        dst = make_engine(target)
        engines.append(dst)
        run(src)
        run(dst)

        def told(copied) -> None:
            if copied.rows:
                click.echo(f"  {copied.table}: {copied.rows} rows")

        copied = copy_rows(src, dst, progress=told)
    except StoreError as error:
        raise click.ClickException(str(error)) from error
    finally:
        for engine in engines:
            engine.dispose()
    total = sum(c.rows for c in copied)
    click.echo(f"copied {total} rows from {_redacted(source)} to {_redacted(target)}")
    click.echo(f'now set store.url = "{_redacted(target)}" (or GEMOPS_STORE__URL)')
