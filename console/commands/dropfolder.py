"""`gemops watch DIR`: the drop folder, headless (a daemon, a systemd unit, or cron with --once)."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import threading
import time
from pathlib import Path

import click


@click.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--once", is_flag=True,
              help="send what is in the folder now, write finished results, then exit (cron)")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per event on stdout")
@click.option("--webhook-port", type=int,
              help="also receive Gemini webhooks on 127.0.0.1:PORT (results land at once)")
@click.option("--webhook-secret", "webhook_secrets", multiple=True,
              envvar="GEMOPS_WEBHOOK_SECRET", help="signing secret(s) for --webhook-port")
def watch(folder: Path | None, once: bool, as_json: bool, webhook_port: int | None,
          webhook_secrets: tuple[str, ...]) -> None:
    """Watch FOLDER (default: `gemops locate drop`) and submit each JSONL file exactly once.

    \b
    FOLDER/*.jsonl        small files run concurrently on standard, larger ones as a batch
    FOLDER/batch/         Batch API (50 % off)
    FOLDER/flex/ standard/ priority/   concurrent calls on that service tier
    Outcomes: submitted/, rejected/ (with <name>.errors.txt), duplicates/, results/.
    Write files elsewhere and move them in, or name them *.part until complete.
    """
    from console.bootstrap import make_workspace
    from console.services.dropfolder import DropFolder, DropFolderBusy, DropNotice
    from console.settings import load_settings

    settings = load_settings()
    root = (folder or settings.drop_dir).expanduser().resolve()
    ws = make_workspace(settings)
    stop = threading.Event()

    def notify(notice: DropNotice) -> None:
        if as_json:
            line = json.dumps({"at": time.time(), "kind": notice.kind, "path": notice.path,
                               "detail": notice.detail})
        else:
            line = f"{time.strftime('%H:%M:%S')} {notice}"
        click.echo(line, err=notice.kind == "error" and not as_json)

    def interrupted(signum, frame) -> None:
        if stop.is_set():  # a second ^C: stop waiting for work in flight
            raise KeyboardInterrupt
        stop.set()
        click.echo("stopping: finishing the files in flight (^C again to quit now)", err=True)

    previous = {sig: signal.signal(sig, interrupted) for sig in (signal.SIGINT, signal.SIGTERM)}
    drop = DropFolder(ws, root, notify=notify)
    receiver_server = None
    try:
        if webhook_port is not None:
            receiver_server = _start_receiver(ws, drop, webhook_port, webhook_secrets, notify)
        if not once:
            click.echo(f"watching {root} (mode {ws.mode.value}; ^C to stop)", err=True)
        asyncio.run(drop.run(stop, once=once))
    except DropFolderBusy as error:
        raise click.ClickException(str(error)) from error
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        if receiver_server is not None:
            receiver_server.stop()
        close(ws)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def close(ws) -> None:
    # Ledger rows still buffered are written first: closing the workspace with rows pending
    # would wait on the store it is closing.
    if ws.connected:
        ws.gateway.flush_ledger()
    ws.close()


def _start_receiver(ws, drop, port: int, secrets: tuple[str, ...], notify):
    from console.services.dropfolder import DropNotice
    from console.services.webhooks import (
        ReceiverServer,
        StoredDeliveries,
        WebhookReceiver,
        describe,
        parse_secrets,
    )

    keys = parse_secrets(secrets)
    if not keys:
        raise click.UsageError("--webhook-port needs --webhook-secret (or GEMOPS_WEBHOOK_SECRET)")
    receiver = WebhookReceiver(
        keys, lambda name, payload: drop.job_changed(name),
        on_delivery=lambda d: notify(DropNotice("webhook", d.batch or "-", describe(d))),
        memory=StoredDeliveries(ws),  # replays stay refused across a restart
    )
    server = ReceiverServer(receiver, port=port).start()
    click.echo(f"receiving webhooks at {server.url}", err=True)
    return server
