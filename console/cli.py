"""The `gemops` command: with no sub-command it opens the console; the rest run headless."""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import time
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from store.repos.ledger import Grouping

log = logging.getLogger("gemops.cli")


class _RotatingLog(logging.Handler):
    """A RotatingFileHandler made at the first record: most commands never log one, and
    importing logging.handlers (sockets, queues) cost every command ~12 ms of start-up."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.baseFilename = path
        self._file: logging.Handler | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self._file is None:
            from logging.handlers import RotatingFileHandler

            self._file = RotatingFileHandler(self.baseFilename, maxBytes=5_000_000, backupCount=3)
            self._file.setFormatter(self.formatter)
        self._file.emit(record)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        super().close()


def _configure_logging() -> None:
    """The application log (`gemops locate log`): warnings and errors, rotated, owner-only.
    Nothing raw is ever logged: errors carry statuses and types, never prompt text."""
    from console import paths

    path = paths.log_file()
    root = logging.getLogger()
    if any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        return  # one handler per file, however often main() runs in a process (tests)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600))
        handler = _RotatingLog(str(path))
    except OSError as error:
        # A read-only home must not stop a command: it runs, without its log file.
        click.echo(f"warning: no log file ({path}: {error.strerror or error})", err=True)
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


def _settings(**overrides):
    """The settings every command reads; a settings file that is not TOML is named."""
    import tomllib

    from console.settings import load_settings

    try:
        return load_settings(**overrides)
    except tomllib.TOMLDecodeError as error:
        from console import paths

        raise click.ClickException(
            f"the settings file {paths.config_file()} is not valid TOML: {error}") from None


def one_line(text: str) -> str:
    """A message folded onto one line (an error's text may carry the server's newlines)."""
    return "; ".join(part.strip() for part in str(text).splitlines() if part.strip())


# Errors that are about the input or the environment, not a bug: said in one line, no log.
# Checked by name and only when their module is already loaded, so the boundary imports
# nothing heavy (a command that never touched SQLAlchemy cannot have raised its errors).
_KNOWN_ERRORS = (
    ("store.engine", "StoreError"),
    ("console.services.gateway", "GatewayError"),
    ("console.services.caches", "CacheError"),
    ("console.services.export", "ExportError"),
    ("console.services.tiers", "PlanError"),
    ("console.services.dropfolder", "DropFolderBusy"),
    ("tomllib", "TOMLDecodeError"),
)


def _known(error: BaseException) -> bool:
    for module, name in _KNOWN_ERRORS:
        kind = getattr(sys.modules.get(module), name, None)
        if kind is not None and isinstance(error, kind):
            return True
    return False


def describe_error(error: BaseException) -> tuple[str, bool]:
    """(one line for a person, whether it is a known kind of failure)."""
    if _known(error):
        gateway = sys.modules.get("console.services.gateway")
        if gateway is not None and isinstance(error, gateway.GatewayError):
            from console.services.caches import describe_error as describe_gateway

            return describe_gateway(error), True
        return str(error), True
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
    if sqlalchemy_exc is not None and isinstance(error, sqlalchemy_exc.DatabaseError):
        from store.engine import describe_database_error

        try:
            where: object = _settings().db_path
        except Exception:
            where = "the database"
        return describe_database_error(str(where), error), True
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and isinstance(error, pydantic.ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
            for e in error.errors()
        )
        return f"invalid settings ({problems}); see `gemops locate config`", True
    if isinstance(error, OSError) and error.strerror:
        where = f"{error.filename}: " if error.filename else ""
        return f"{where}{error.strerror.lower()}", True
    return f"{type(error).__name__}: {error}", False


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"Error: {one_line(message)}", err=True)
    sys.exit(code)


class AreaCommands(click.Group):
    """Sub-commands that live beside their area (`console/commands/<area>.py`), imported only
    when named, so `gemops --help` and the console's start stay light."""

    LAZY = {
        "caches": "console.commands.caches:caches",
        "watch": "console.commands.dropfolder:watch",
        "batches": "console.commands.batches:batches",
        "webhooks": "console.commands.webhooks:webhooks",
        "tiers": "console.commands.tiers:tiers",
        "export": "console.commands.export:export",
        "logs": "console.commands.logs:logs",
        "quality": "console.commands.quality:quality",
        "store": "console.commands.store:store",
        "serve": "console.commands.serve:serve",
    }

    def _lazy(self, name: str) -> click.Command | None:
        from importlib import import_module
        from importlib.util import find_spec

        module, attribute = self.LAZY[name].split(":")
        if find_spec(module) is None:
            return None
        return getattr(import_module(module), attribute)

    def list_commands(self, ctx: click.Context) -> list[str]:
        from importlib.util import find_spec

        lazy = [n for n, target in self.LAZY.items() if find_spec(target.split(":")[0])]
        return sorted(set(super().list_commands(ctx)) | set(lazy))

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except RuntimeError as error:
            # Over the spend budget: scripts get one clear `Error:` line, not a traceback.
            # (Looked up, not imported: the budget module is loaded only once it is used.)
            budget = sys.modules.get("console.services.budget")
            if budget is not None and isinstance(error, budget.OverBudget):
                raise click.ClickException(str(error)) from error
            raise

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None and name in self.LAZY:
            command = self._lazy(name)
        return command

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra):
        """The one error boundary: whatever goes wrong is one line `Error: …` on stderr and a
        non-zero exit. A failure gemops did not expect is written with its traceback to the
        log (`gemops locate log`), not the terminal; GEMOPS_DEBUG=1 shows it here."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        except click.UsageError as error:
            hint = ""
            if error.ctx is not None:
                hint = f" (see '{error.ctx.command_path} --help')"
            _fail(error.format_message() + hint, error.exit_code)
        except click.ClickException as error:
            _fail(error.format_message(), error.exit_code)
        except Exception as error:
            if os.environ.get("GEMOPS_DEBUG"):
                raise
            message, known = describe_error(error)
            if not known:
                _configure_logging()
                if logging.getLogger().handlers:  # else Python's last resort prints it here
                        log.error("unexpected error in `%s`", " ".join(sys.argv[1:2]) or "gemops",
                              exc_info=error)
                message += " (an unexpected error: the traceback is in the log, " \
                           "`gemops locate log`; GEMOPS_DEBUG=1 shows it here)"
            _fail(message)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=AreaCommands, invoke_without_command=True)
@click.version_option(package_name="gemops")
@click.pass_context
def main(ctx: click.Context) -> None:
    """gemops — operate Gemini workloads: caches, batches, tiers, limits, costs, logs.

    With no command, opens the console (on the built-in emulator when no API key is set).
    """
    if ctx.invoked_subcommand is not None and ctx.invoked_subcommand != "locate":
        _configure_logging()
    if ctx.invoked_subcommand is None:
        from console.bootstrap import make_app
        from store import preflight

        _configure_logging()
        settings = _settings()
        if not settings.store.url:  # a server database is checked when it is opened
            trouble = preflight.problem(settings.db_path)
            if trouble:
                raise click.ClickException(trouble)
        app = make_app(settings)
        try:
            app.run()
        finally:
            # Flushes the ledger's last rows and stops the embedded emulator.
            app.workspace.close()


@main.command()
@click.argument("what", type=click.Choice(["cache", "config", "data", "db", "drop", "log",
                                           "results"]))
def locate(what: str) -> None:
    """Print where gemops keeps WHAT."""
    from console import paths

    settings = _settings()
    where = {
        "cache": paths.cache_dir,
        "config": paths.config_file,
        "data": paths.data_dir,
        "db": lambda: settings.db_path,
        "drop": lambda: settings.drop_dir,
        "log": paths.log_file,
        "results": lambda: paths.data_dir() / "results",
    }[what]()
    click.echo(str(where))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option("--faults", type=click.Path(exists=True, dir_okay=False), help="fault profile TOML")
@click.option("--state", type=click.Path(dir_okay=False), help="persist state in this SQLite file")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
              help="emulator config TOML (quotas, tier latency, batch timing)")
def emulator(host: str, port: int, faults: str | None, state: str | None,
             config_path: str | None) -> None:
    """Run the Gemini API emulator standalone (GOOGLE_GEMINI_BASE_URL=http://HOST:PORT)."""
    import tomllib

    from console.emulator.server import serve_forever

    for given in (faults, config_path):
        if given:
            try:
                with open(given, "rb") as handle:
                    tomllib.load(handle)
            except tomllib.TOMLDecodeError as error:
                raise click.ClickException(f"{given} is not valid TOML: {error}") from None
    serve_forever(host, port, faults_path=faults, state_path=state, config_path=config_path)


@main.command()
@click.option("--once", is_flag=True, help="run one tick and exit (status 1 if it failed)")
@click.option("--status", is_flag=True, help="print the last sync of each resource and exit")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per tick")
def sync(once: bool, status: bool, as_json: bool) -> None:
    """Mirror remote caches, batch jobs and files into SQLite, at the configured cadence
    (faster while a batch runs, backing off after errors) until interrupted."""
    import signal
    import threading

    from console.bootstrap import make_workspace
    from console.services.sync import SyncLoop

    ws = make_workspace(_settings())
    if status:
        try:
            _sync_status(ws, as_json)
        finally:
            ws.close()
        return
    loop = SyncLoop(ws)
    stop = threading.Event()
    # A service manager stops daemons with SIGTERM: finish the tick in hand, then exit.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def report(result) -> None:
        if as_json:
            click.echo(json.dumps(result.as_dict()))
        elif result.ok:
            click.echo(result.summary())
        else:
            click.echo(result.summary(), err=True)

    try:
        loop.run(stop, report, once=once)
    except KeyboardInterrupt:
        pass
    finally:
        ws.close()
    if once and loop.last is not None and not loop.last.ok:
        sys.exit(1)


def _sync_status(ws, as_json: bool) -> None:
    from console.services.render import ago
    from console.services.sync import sync_states

    states = sync_states(ws)
    if as_json:
        click.echo(json.dumps([
            {"resource": s.resource, "last_success_at": s.last_success_at,
             "last_attempt_at": s.last_attempt_at, "last_error": s.last_error,
             "last_error_at": s.last_error_at, "consecutive_errors": s.consecutive_errors,
             "last_duration_ms": s.last_duration_ms}
            for s in states
        ], indent=2))
        return
    if not states:
        click.echo("never synced (run `gemops sync --once`)")
        return
    now = time.time()
    for s in states:
        when = "never" if s.last_success_at is None else ago(now - s.last_success_at)
        line = f"{s.resource:<8} last success {when}"
        if s.consecutive_errors:
            line += f"; failing ({s.consecutive_errors}x): {s.last_error}"
        click.echo(line)


@main.command()
@click.option("--model", default="gemini-2.5-flash", show_default=True)
@click.option("--requests", type=click.IntRange(min=0), help="number of requests")
@click.option("--input-tokens", type=click.IntRange(min=0),
              help="variable input tokens per request")
@click.option("--output-tokens", type=click.IntRange(min=0), help="output tokens per request")
@click.option("--thought-tokens", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--shared-context-tokens", type=click.IntRange(min=0), default=0,
              show_default=True)
@click.option("--queries-per-context", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--cache-hours", type=click.FloatRange(min=0), default=1.0, show_default=True)
@click.option("--workload", type=click.Path(exists=True, dir_okay=False),
              help="a workload TOML instead of the flags")
@click.option("--prices", type=click.Path(exists=True, dir_okay=False),
              help="a price-table TOML merged over the defaults")
@click.option("--ledger", "from_ledger", is_flag=True, help="actual spend from the ledger")
@click.option("--since", help="with --ledger: a date (YYYY-MM-DD) or a span like 7d, 24h")
@click.option("--by", type=click.Choice(["model", "tier", "day", "mode"]), default="model",
              show_default=True)
@click.option("--json", "as_json", is_flag=True)
def cost(model, requests, input_tokens, output_tokens, thought_tokens, shared_context_tokens,
         queries_per_context, cache_hours, workload, prices, from_ledger, since, by,
         as_json) -> None:
    """What a workload costs on every lever, or (--ledger) what was actually spent."""
    if from_ledger:
        _ledger_cost(since, by, as_json)
        return
    from console.services.pricing import (
        PriceTable,
        Workload,
        compare,
        render_comparison,
        rows_as_dicts,
    )

    settings = _settings()
    try:
        table = PriceTable.load(prices or settings.prices.file)
    except (TypeError, ValueError) as error:  # TOMLDecodeError is a ValueError
        raise click.ClickException(f"price table {prices or settings.prices.file}: "
                                   f"{error}") from error
    if workload:
        try:
            load = Workload.from_toml(workload)
        except (TypeError, ValueError) as error:
            message = str(error)
            if not message.startswith(str(workload)):
                message = f"{workload}: {message}"
            raise click.ClickException(f"invalid workload: {message}") from error
    else:
        if requests is None or input_tokens is None or output_tokens is None:
            raise click.UsageError(
                "give --requests, --input-tokens and --output-tokens, or --workload FILE"
            )
        load = Workload(
            model=model, requests=requests, input_tokens=input_tokens,
            output_tokens=output_tokens, shared_context_tokens=shared_context_tokens,
            queries_per_context=queries_per_context, cache_hours=cache_hours,
            thought_tokens=thought_tokens,
        )
    try:
        rows = compare(table, load)
    except (LookupError, ValueError) as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps(rows_as_dicts(rows), indent=2))
    else:
        click.echo(render_comparison(rows))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line with the findings")
@click.option("--pseudonyms", is_flag=True,
              help="stable [EMAIL_1]-style pseudonyms instead of [EMAIL_REDACTED]")
@click.option("--engine", type=click.Choice(["default", "structured", "ner"]),
              default="default", envvar="GEMOPS_REDACTION__ENGINE", show_default=True,
              help="names/addresses by rule (default), none (structured), or spaCy (ner)")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="processes that scan (default: the CPUs available; 1 scans in this one)")
def redact(as_json: bool, pseudonyms: bool, engine: str, jobs: int | None) -> None:
    """Remove PII and secrets from stdin, writing the redacted text to stdout."""
    from console.services.redact import redact_stream

    # Bytes that are not UTF-8 (a stray Latin-1 byte in a log) come out as they went in, or, in
    # JSON (which must be UTF-8), as U+FFFD.
    for stream, errors in ((sys.stdin, "replace" if as_json else "surrogateescape"),
                           (sys.stdout, "strict" if as_json else "surrogateescape")):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors=errors)
    try:
        redact_stream(sys.stdin, sys.stdout, as_json=as_json,
                      mode="pseudonym" if pseudonyms else "token", engine=engine, jobs=jobs)
    except RuntimeError as error:  # the ner engine without its extra
        raise click.ClickException(str(error)) from error


def parse_since(text: str | None, now: float, option: str = "--since") -> float:
    """`7d`, `24h`, `30m` back from now, or a date `YYYY-MM-DD` (UTC); default: 7 days.
    A bad value is a usage error that names `option`."""
    from console.services.render import parse_moment

    if not text:
        return now - 7 * 86_400
    try:
        return parse_moment(text, now=now)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint=f"'{option}'") from error


def _ledger_cost(since: str | None, by: Grouping, as_json: bool) -> None:
    from console.bootstrap import make_workspace
    from console.services.spend import spend

    ws = make_workspace(_settings())
    try:
        rows = spend(ws, since=parse_since(since, time.time()), by=by)
    finally:
        ws.close()
    if as_json:
        click.echo(json.dumps([
            {"group": r.group, "calls": r.calls, "errors": r.errors,
             "prompt_tokens": r.prompt_tokens, "cached_tokens": r.cached_tokens,
             "output_tokens": r.output_tokens, "cost": round(r.cost, 6),
             "standard_cost": round(r.standard_cost, 6), "savings": round(r.savings, 6)}
            for r in rows
        ], indent=2))
        return
    if not rows:
        click.echo("no calls in the ledger for that period")
        return
    from console.services.render import saving

    # Priority costs more than standard: its "saving" is extra spend, and says so.
    header = (f"{by:<24} {'calls':>7} {'errors':>6} {'cost $':>12} {'standard $':>12} "
              f"{'saved (vs standard)':>20}")
    click.echo(header)
    click.echo("-" * len(header))
    for r in rows:
        click.echo(f"{r.group:<24} {r.calls:>7} {r.errors:>6} {r.cost:>12.6f} "
                   f"{r.standard_cost:>12.6f} {saving(r.savings):>20}")
    total = sum(r.cost for r in rows)
    saved = sum(r.savings for r in rows)
    click.echo(f"{'total':<24} {sum(r.calls for r in rows):>7} {'':>6} {total:>12.6f} "
               f"{total + saved:>12.6f} {saving(saved):>20}")


def run() -> None:
    main(prog_name="gemops")


if __name__ == "__main__":
    run()
