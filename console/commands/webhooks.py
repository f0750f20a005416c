"""`gemops webhooks serve|register|list|delete`: batch events pushed to you instead of polled."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from console.commands import open_workspace


@click.group()
def webhooks() -> None:
    """Receive signed Gemini webhooks (Standard Webhooks) and register them with the API."""


@webhooks.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8787, show_default=True, type=click.IntRange(0, 65535))
@click.option("--path", default="/webhooks/gemini", show_default=True)
@click.option("--secret", "secrets", multiple=True, envvar="GEMOPS_WEBHOOK_SECRET",
              help="signing secret whsec_… (repeat during a rotation; or GEMOPS_WEBHOOK_SECRET)")
@click.option("--secret-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="read the secret(s) from this file (as written by `register --secret-file`)")
@click.option("--max-body", default=256 * 1024, show_default=True, type=click.IntRange(1),
              help="reject bodies larger than this many bytes")
@click.option("--tolerance", default=300.0, show_default=True,
              type=click.FloatRange(0, min_open=True),
              help="reject deliveries whose timestamp is further than this from now (seconds)")
def serve(host: str, port: int, path: str, secrets: tuple[str, ...], secret_file: Path | None,
          max_body: int, tolerance: float) -> None:
    """Receive webhooks; each batch event syncs that job at once and writes its results."""
    from console.services.webhooks import (
        StoredDeliveries,
        WebhookReceiver,
        describe,
        parse_secrets,
        sync_batch,
    )
    from console.services.webhooks import serve as run

    keys = parse_secrets(secrets)
    if secret_file is not None:
        keys += parse_secrets(secret_file.read_text().splitlines())
    if not keys:
        raise click.UsageError("give --secret, --secret-file or GEMOPS_WEBHOOK_SECRET")
    ws = open_workspace()
    receiver = WebhookReceiver(
        keys, sync_batch(ws), path=path, max_body=max_body, tolerance_s=tolerance,
        on_delivery=lambda delivery: click.echo(describe(delivery)),
        memory=StoredDeliveries(ws),  # replays stay refused across a restart
    )
    click.echo(f"receiving webhooks at http://{host}:{port}{path}", err=True)
    try:
        run(receiver, host, port)
    finally:
        ws.close()


@webhooks.command()
@click.argument("url")
@click.option("--event", "events", multiple=True,
              default=("batch.succeeded", "batch.failed", "batch.expired"), show_default=True)
@click.option("--name", default="gemops", show_default=True)
@click.option("--secret-file", type=click.Path(dir_okay=False, path_type=Path),
              help="write the signing secret here (mode 0600) instead of printing it")
@click.option("--json", "as_json", is_flag=True)
def register(url: str, events: tuple[str, ...], name: str, secret_file: Path | None,
             as_json: bool) -> None:
    """Register URL with the API for EVENTs; its signing secret is shown only this once."""
    from console.services.webhooks import register as create

    ws = open_workspace()
    try:
        hook = create(ws, url, events=events, name=name)
    except Exception as error:
        raise click.ClickException(str(error)) from error
    finally:
        ws.close()
    secret = hook.get("new_signing_secret") or ""
    if secret_file is not None:
        descriptor = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secret + "\n")
        hook = {k: v for k, v in hook.items() if k != "new_signing_secret"}
    if as_json:
        click.echo(json.dumps(hook, indent=2))
        return
    click.echo(f"registered webhooks/{hook.get('id')} -> {url} for {', '.join(events)}")
    if secret_file is not None:
        click.echo(f"signing secret written to {secret_file}; "
                   f"serve with: gemops webhooks serve --secret-file {secret_file}")
    else:
        click.echo(f"signing secret (shown once): {secret}")


@webhooks.command(name="list")
@click.option("--json", "as_json", is_flag=True)
def list_(as_json: bool) -> None:
    """Registered webhooks."""
    from console.services.webhooks import registered

    ws = open_workspace()
    try:
        hooks = registered(ws)
    except Exception as error:
        raise click.ClickException(str(error)) from error
    finally:
        ws.close()
    if as_json:
        click.echo(json.dumps(hooks, indent=2))
        return
    for hook in hooks:
        click.echo(f"webhooks/{hook.get('id')}  {hook.get('state', ''):<9} {hook.get('uri')}  "
                   f"{', '.join(hook.get('subscribed_events') or [])}")
    if not hooks:
        click.echo("no webhooks registered")


@webhooks.command()
@click.argument("webhook_id")
@click.option("--yes", is_flag=True, help="do not ask")
def delete(webhook_id: str, yes: bool) -> None:
    """Remove a registered webhook."""
    from console.services.webhooks import unregister

    if not yes and not click.confirm(f"delete {webhook_id}?", default=False, err=True):
        raise click.Abort
    ws = open_workspace()
    try:
        unregister(ws, webhook_id)
    except Exception as error:
        raise click.ClickException(str(error)) from error
    finally:
        ws.close()
    click.echo(f"deleted {webhook_id}")
