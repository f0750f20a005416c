"""`gemops caches list|create|extend|delete|hits`: the caches pane, headless, same checks."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from console.commands import plural


def _rounded(value: float | None, digits: int | None) -> float | None:
    return None if value is None else round(value, digits)


@contextmanager
def _workspace() -> Iterator[Any]:
    from console.bootstrap import make_workspace
    from console.cli import _settings

    ws = make_workspace(_settings())
    try:
        yield ws
    finally:
        close(ws)


def close(ws: Any) -> None:
    """Write the calls' ledger rows, then close. Flushing first matters: Workspace.close holds
    the lock the ledger writer needs to open the store, so rows left to it wait it out."""
    if ws.connected:
        ws.gateway.flush_ledger()
    ws.close()


def _iso(at: float | None) -> str | None:
    return datetime.fromtimestamp(at, UTC).isoformat() if at is not None else None


def _fail(error: BaseException) -> click.ClickException:
    from console.services.caches import describe_error

    return click.ClickException(describe_error(error))


def _refresh(ws: Any) -> None:
    """List caches remotely first, so what is shown (and names resolved) is current; offline,
    the local mirror is used and stderr says how old it is."""
    from console.services.sync import sync_once

    result = sync_once(ws, ("caches",))
    if result.errors:
        click.echo(
            f"warning: could not refresh caches ({result.errors['caches']}); "
            "showing the last synced state",
            err=True,
        )


def _resolve(ws: Any, ref: str) -> Any:
    from console.services.caches import CacheInputError, resolve

    try:
        return resolve(ws, ref)
    except CacheInputError as error:
        raise click.ClickException(str(error)) from None


def _cache_json(cache: Any) -> dict[str, Any]:
    return {
        "name": cache.name,
        "display_name": cache.display_name,
        "model": cache.model,
        "total_tokens": cache.total_tokens,
        "created_at": _iso(cache.created_at),
        "expires_at": _iso(cache.expires_at),
    }


@click.group()
def caches() -> None:
    """Explicit context caches: list, create, extend, delete; cache hit rates."""


@caches.command("list")
@click.option("--offline", is_flag=True, help="read the local mirror only (no API call)")
@click.option("--json", "as_json", is_flag=True, help="a JSON array instead of a table")
def list_caches(offline: bool, as_json: bool) -> None:
    """Live caches with storage cost, calls that used them and the input cost they saved."""
    from console.services.caches import cache_views
    from console.tui.formatting import duration, money

    with _workspace() as ws:
        if not offline:
            _refresh(ws)
        views = cache_views(ws)
        now = ws.clock()
    if as_json:
        click.echo(json.dumps([
            _cache_json(v.cache) | {
                "expires_in_s": _rounded(v.expires_in(now), None),
                "storage_per_hour": None if v.per_hour is None else round(v.per_hour, 6),
                "storage_so_far": _rounded(v.storage_so_far(now), 6),
                "calls": v.calls,
                "cached_tokens": v.usage.cached_tokens if v.usage else 0,
                "saved": round(v.saved, 6),
            }
            for v in views
        ], indent=2))
        return
    if not views:
        click.echo("no live caches (create one with `gemops caches create --file F`)")
        return
    header = ("NAME", "DISPLAY NAME", "MODEL", "TOKENS", "EXPIRES IN", "$/HOUR", "SO FAR",
              "CALLS", "SAVED")
    lines = [header] + [
        (
            v.name,
            v.cache.display_name or "-",
            v.cache.model,
            f"{v.cache.total_tokens:,}",
            duration(v.expires_in(now) or 0),
            "-" if v.per_hour is None else money(v.per_hour),
            "-" if v.per_hour is None else money(v.storage_so_far(now) or 0),
            f"{v.calls:,}",
            money(v.saved),
        )
        for v in views
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    right = {3, 5, 6, 7, 8}
    for line in lines:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in
                 enumerate(zip(line, widths, strict=True))]
        click.echo("  ".join(cells).rstrip())


@caches.command("create")
@click.option("--file", "-f", "files", multiple=True, type=click.Path(path_type=Path),
              help="a text, PDF or image file (repeatable); uploaded through the Files API")
@click.option("--system", "system", default="", help="a system instruction to cache")
@click.option("--system-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="read the system instruction from a file")
@click.option("--model", help="default: the configured default model")
@click.option("--ttl", default="1h", show_default=True, help="e.g. 30m, 1h, 1d, 3600s")
@click.option("--name", "display_name", default="", help="display name")
@click.option("--json", "as_json", is_flag=True, help="print the new cache as JSON")
def create_cache(files: tuple[Path, ...], system: str, system_file: Path | None,
                 model: str | None, ttl: str, display_name: str, as_json: bool) -> None:
    """Create a cache; its size is counted against the model's minimum before any upload."""
    from console.services.caches import CacheDraft, CacheError, create, parse_ttl

    if system and system_file:
        raise click.UsageError("give --system or --system-file, not both")
    if system_file:
        system = system_file.read_text(encoding="utf-8")
    try:
        ttl_s = parse_ttl(ttl)
    except CacheError as error:
        raise click.BadParameter(str(error), param_hint="--ttl") from None

    def progress(text: str, done: int, total: int) -> None:
        click.echo(f"[{done}/{total}] {text}", err=True)

    with _workspace() as ws:
        draft = CacheDraft(
            model=model or ws.settings.gemini.default_model, ttl_s=ttl_s, files=files,
            system_instruction=system, display_name=display_name,
        )
        try:
            cache = create(ws, draft, progress)
        except Exception as error:
            raise _fail(error) from None
    if as_json:
        click.echo(json.dumps(_cache_json(cache), indent=2))
    else:
        click.echo(f"created {cache.name} ({plural(cache.total_tokens, 'token')}, "
                   f"expires {_iso(cache.expires_at)})")


@caches.command("extend")
@click.argument("ref", metavar="NAME")
@click.option("--by", "by", help="push the expiry this much later, e.g. 1h")
@click.option("--ttl", "ttl", help="set the expiry this long from now, e.g. 2h")
@click.option("--json", "as_json", is_flag=True, help="print the updated cache as JSON")
def extend_cache(ref: str, by: str | None, ttl: str | None, as_json: bool) -> None:
    """Extend a cache (NAME: resource name, id or display name)."""
    from console.services.caches import CacheError, extend, parse_ttl

    if (by is None) == (ttl is None):
        raise click.UsageError("give exactly one of --by DURATION or --ttl DURATION")
    try:
        seconds = parse_ttl(by or ttl or "")
    except CacheError as error:
        raise click.BadParameter(str(error), param_hint="--by" if by else "--ttl") from None
    with _workspace() as ws:
        _refresh(ws)
        cache = _resolve(ws, ref)
        try:
            if by:
                updated = extend(ws, cache.name, by_s=seconds)
            else:
                updated = extend(ws, cache.name, ttl_s=seconds)
        except Exception as error:
            raise _fail(error) from None
    if as_json:
        click.echo(json.dumps(_cache_json(updated), indent=2))
    else:
        click.echo(f"extended {updated.name}: expires {_iso(updated.expires_at)}")


@caches.command("delete")
@click.argument("refs", metavar="NAME...", nargs=-1, required=True)
@click.option("--yes", "-y", is_flag=True, help="do not ask for confirmation")
@click.option("--json", "as_json", is_flag=True, help="print what happened to each as JSON")
def delete_cache(refs: tuple[str, ...], yes: bool, as_json: bool) -> None:
    """Delete caches (NAME: resource name, id or display name); asks first unless --yes."""
    from console.services.caches import CacheGone, delete

    outcomes: list[dict[str, Any]] = []
    failed = False
    with _workspace() as ws:
        _refresh(ws)
        targets = [_resolve(ws, ref) for ref in refs]
        if not yes:
            if not sys.stdin.isatty():
                raise click.ClickException("refusing to delete without --yes (no terminal to ask)")
            listed = ", ".join(f"{c.display_name or c.name} ({plural(c.total_tokens, 'token')})"
                               for c in targets)
            click.confirm(f"Delete {listed}? This cannot be undone", abort=True)
        for cache in targets:
            try:
                delete(ws, cache.name)
                outcomes.append({"name": cache.name, "deleted": True})
            except CacheGone as gone:
                outcomes.append({"name": cache.name, "deleted": False, "gone": True})
                click.echo(f"warning: {gone}", err=True)
            except Exception as error:
                failed = True
                outcomes.append({"name": cache.name, "deleted": False, "error": str(error)})
                click.echo(f"error: {_fail(error).message}", err=True)
    if as_json:
        click.echo(json.dumps(outcomes, indent=2))
    else:
        for outcome in outcomes:
            if outcome["deleted"]:
                click.echo(f"deleted {outcome['name']}")
    if failed:
        sys.exit(1)


@caches.command("hits")
@click.option("--by", type=click.Choice(["model", "prefix"]), default="model", show_default=True)
@click.option("--since", help="a date (YYYY-MM-DD) or a span like 7d, 24h (default 7d)")
@click.option("--json", "as_json", is_flag=True)
def hits(by: str, since: str | None, as_json: bool) -> None:
    """Cache hit rate (cached ÷ prompt tokens), implicit and explicit apart, with the savings."""
    from console.cli import parse_since
    from console.services.caches import hit_advice, hit_rates
    from console.tui.formatting import money

    with _workspace() as ws:
        rows = hit_rates(ws, by=by, since=parse_since(since, ws.clock()))  # type: ignore[arg-type]
        advice = hit_advice(ws, rows)
    if as_json:
        click.echo(json.dumps([
            {"group": r.group, "kind": r.kind, "models": list(r.models), "calls": r.calls,
             "prompt_tokens": r.prompt_tokens, "cached_tokens": r.cached_tokens,
             "hit_rate": round(r.rate, 4), "saved": round(r.saved, 6),
             "last_at": _iso(r.last_at)}
            for r in rows
        ], indent=2))
        return
    if not rows:
        click.echo("no successful online calls in that period")
        return
    click.echo(f"{by:<28} {'kind':<9} {'calls':>7} {'prompt':>12} {'cached':>12} "
               f"{'hit rate':>8} {'saved':>10}")
    for r in rows:
        click.echo(f"{r.group:<28} {r.kind:<9} {r.calls:>7,} {r.prompt_tokens:>12,} "
                   f"{r.cached_tokens:>12,} {r.rate:>8.1%} {money(r.saved):>10}")
    if advice:
        click.echo(f"\n{advice}")
