"""`gemops batches …`: validate, submit, list, show, cancel, delete, and write results."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from console.commands import open_workspace, plural
from console.services.errors import GatewayError


def _state(view) -> str:
    state = view.job.state.removeprefix("JOB_STATE_")
    if view.stuck:
        state += " (stuck)"
    return state


def _progress(job) -> str:
    return f"{job.succeeded_count}/{job.failed_count}/{job.pending_count} of {job.request_count}"


def _view_dict(view) -> dict:
    job = view.job
    return {
        "name": job.name, "display_name": job.display_name, "model": job.model,
        "state": job.state, "stuck_pending": view.stuck, "expired": view.expired,
        "in_state_s": None if view.in_state_s is None else round(view.in_state_s, 1),
        "requests": job.request_count, "succeeded": job.succeeded_count,
        "failed": job.failed_count, "pending": job.pending_count,
        "drop_file": view.drop_name, "results": job.results_path,
        "results_written": job.results_written_at is not None, "error": job.error,
    }


@click.group()
def batches() -> None:
    """Batch jobs: 50 % off, results within 24 h, matched back to your keys."""


@batches.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True,
              help="one JSON object per error, then one summary object per file")
def validate(files: tuple[Path, ...], as_json: bool) -> None:
    """Check JSONL files line by line without sending anything (exit 1 if any is bad)."""
    from console.services import jsonl

    bad = 0
    for path in files:
        def show(error, path=path) -> None:
            if as_json:
                click.echo(json.dumps({"file": str(path), "line": error.line,
                                       "field": error.field, "message": error.message}))
            else:
                click.echo(str(error))

        report = jsonl.validate(path, display=str(path), sink=show)
        if not report.ok:
            bad += 1
        if as_json:
            click.echo(json.dumps({"file": str(path), "ok": report.ok,
                                   "requests": report.requests, "bad_lines": report.bad_lines}))
        else:
            verdict = "ok" if report.ok else plural(report.bad_lines, "bad line")
            click.echo(f"{path}: {plural(report.requests, 'request')}, {verdict}", err=True)
    if bad:
        sys.exit(1)


@batches.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", help="the batch's model (default: the file's, else the setting)")
@click.option("--inline", is_flag=True, help="send the requests inline (under 20 MB), no upload")
@click.option("--results", "results_dir", type=click.Path(file_okay=False, path_type=Path),
              help="the folder for <name>.jsonl results (default: `gemops locate results`)")
@click.option("--again", is_flag=True, help="submit content that was already submitted")
@click.option("--wait", is_flag=True, help="wait for the job and write its results")
def submit(file: Path, model: str | None, inline: bool, results_dir: Path | None, again: bool,
           wait: bool) -> None:
    """Validate FILE and submit it as one batch job (exactly once per content)."""
    from console.commands import results_dir as default_results
    from console.services.batches import submit_file

    folder = (results_dir or default_results()).resolve()
    ws = open_workspace()
    shown = [-1]

    def progress(sent: int, total: int) -> None:
        percent = sent * 100 // max(total, 1)
        if percent != shown[0]:
            shown[0] = percent
            click.echo(f"\ruploading {file.name}: {percent:3d}% of {total:,} bytes", err=True,
                       nl=sent >= total)

    try:
        outcome = submit_file(ws, file, results_dir=folder,
                              model=model, inline=inline,
                              again=again, progress=progress)
        if outcome.duplicate_of is not None:
            original = outcome.duplicate_of
            raise click.ClickException(
                f"{file} was already submitted ({original.batch_name or original.step}, "
                f"from {original.path}); use --again to submit it once more")
        if not outcome.ok:
            for error in outcome.errors:
                click.echo(str(error), err=True)
            raise click.ClickException(f"{file} was not submitted")
        drop = outcome.drop
        assert drop is not None
        click.echo(f"submitted {drop.batch_name} ({plural(drop.request_count or 0, 'request')}); "
                   f"results will go to {folder / (file.stem + '.jsonl')}")
        if wait and drop.batch_name:
            _wait(ws, drop.batch_name)
    finally:
        ws.close()


def _wait(ws, name: str) -> None:
    from console.services.batches import collect_finished
    from console.services.sync import next_interval, sync_once
    from store.repos import batches as repo

    while True:
        result = sync_once(ws)
        if result.error:
            click.echo(f"sync failed: {result.error}", err=True)
        with ws.session() as session:
            job = repo.get(session, name)
        if job is not None:
            click.echo(f"\r{job.state.removeprefix('JOB_STATE_'):<10} {_progress(job)}",
                       err=True, nl=False)
            if job.done:
                click.echo("", err=True)
                for written in collect_finished(ws, names=[name]):
                    click.echo(_written(written))
                return
        time.sleep(next_interval(ws.settings.sync, result))


def _written(written) -> str:
    return (f"results: {written.path.resolve()} ({written.ok:,} ok, "
            f"{written.failed:,} failed)")


def _refresh(ws, name: str):
    """The job, fetched from the API; a job the API does not know is said plainly."""
    from console.services.batches import refresh_job
    try:
        return refresh_job(ws, name)
    except GatewayError as error:
        if error.status in (403, 404):
            raise click.ClickException(f"no batch job {name} (`gemops batches list --sync` "
                                       "lists them)") from None
        raise


@batches.command(name="list")
@click.option("--all", "include_gone", is_flag=True, help="include jobs deleted remotely")
@click.option("--sync", "sync_first", is_flag=True, help="sync with the API first")
@click.option("--json", "as_json", is_flag=True)
def list_(include_gone: bool, sync_first: bool, as_json: bool) -> None:
    """Jobs as last synced: state, progress (succeeded/failed/pending), time in state."""
    from console.services.batches import job_views

    ws = open_workspace()
    try:
        if sync_first:
            from console.services.sync import sync_once

            result = sync_once(ws)
            if result.error:
                click.echo(f"sync failed: {result.error}", err=True)
        views = job_views(ws, include_gone=include_gone)
    finally:
        ws.close()
    if as_json:
        click.echo(json.dumps([_view_dict(v) for v in views], indent=2))
        return
    if not views:
        click.echo("no batch jobs (gemops sync --once to fetch them)")
        return
    from console.tui.formatting import duration

    header = f"{'name':<46} {'state':<18} {'ok/failed/pending of all':<26} {'in state':>9}  model"
    click.echo(header)
    for view in views:
        job = view.job
        in_state = duration(view.in_state_s) if view.in_state_s is not None else "—"
        click.echo(f"{job.name:<46} {_state(view):<18} {_progress(job):<26} {in_state:>9}  "
                   f"{job.model}")


@batches.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def show(name: str, as_json: bool) -> None:
    """One job, refreshed from the API."""
    from console.services.batches import job_views

    name = name if name.startswith("batches/") else f"batches/{name}"
    ws = open_workspace()
    try:
        _refresh(ws, name)
        view = next((v for v in job_views(ws, include_gone=True) if v.name == name), None)
    finally:
        ws.close()
    if view is None:
        raise click.ClickException(f"no batch job {name}")
    data = _view_dict(view)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        click.echo(f"{key:>16}: {value}")


def _confirm(question: str, yes: bool) -> None:
    if not yes and not click.confirm(question, default=False, err=True):
        raise click.Abort


@batches.command()
@click.argument("name")
@click.option("--yes", is_flag=True, help="do not ask")
def cancel(name: str, yes: bool) -> None:
    """Cancel a pending or running job (its finished requests are still billed)."""
    from console.services.batches import cancel_job

    name = name if name.startswith("batches/") else f"batches/{name}"
    _confirm(f"cancel {name}?", yes)
    ws = open_workspace()
    try:
        job = cancel_job(ws, name)
    except Exception as error:
        raise click.ClickException(str(error)) from error
    finally:
        ws.close()
    click.echo(f"{name}: {job.state.removeprefix('JOB_STATE_') if job else 'cancelled'}")


@batches.command()
@click.argument("name")
@click.option("--yes", is_flag=True, help="do not ask")
def delete(name: str, yes: bool) -> None:
    """Delete a job on the API (its local record and results stay)."""
    from console.services.batches import delete_job

    name = name if name.startswith("batches/") else f"batches/{name}"
    _confirm(f"delete {name}?", yes)
    ws = open_workspace()
    try:
        delete_job(ws, name)
    except Exception as error:
        raise click.ClickException(str(error)) from error
    finally:
        ws.close()
    click.echo(f"deleted {name}")


@batches.command()
@click.argument("name")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="results file (default: where the job's results go, else "
                   "<id>.jsonl in `gemops locate results`)")
def results(name: str, out: Path | None) -> None:
    """Write a finished job's results, keyed (any job, also one gemops did not submit)."""
    from console.services.batches import write_results_for

    name = name if name.startswith("batches/") else f"batches/{name}"
    ws = open_workspace()
    try:
        job = _refresh(ws, name)
        if job is None:
            raise click.ClickException(f"no batch job {name}")
        from console.commands import results_dir as default_results

        target = out or (Path(job.results_path) if job.results_path
                         else default_results() / f"{name.removeprefix('batches/')}.jsonl")
        written = write_results_for(ws, name, target.resolve())
    except (LookupError, ValueError) as error:
        raise click.ClickException(str(error)) from error
    finally:
        ws.close()
    click.echo(_written(written))


@batches.command()
def collect() -> None:
    """Sync, then write the results of every finished job gemops submitted (for cron)."""
    from console.services.batches import collect_finished
    from console.services.sync import sync_once

    ws = open_workspace()
    try:
        result = sync_once(ws)
        if result.error:
            raise click.ClickException(f"sync failed: {result.error}")
        for written in collect_finished(ws):
            click.echo(_written(written))
    finally:
        ws.close()
