"""`gemops serve`: the same console in a browser (textual-serve), one console process per tab."""

from __future__ import annotations

import ipaddress
import shlex
import socket
import sys
from urllib.parse import urlsplit

import click


def is_loopback(host: str) -> bool:
    """Whether every address `host` stands for is on this machine only. An empty host or a
    wildcard (0.0.0.0, ::) listens on every interface, so it is not."""
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or error
        raise click.BadParameter(f"{host!r}: {reason}", param_hint="'--host'") from None
    return bool(infos) and all(
        ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos)


def _loopback_name(host_header: str) -> bool:
    """A browser's `Host` names this machine (a DNS-rebinding page names its own domain)."""
    name = urlsplit(f"//{host_header}").hostname or ""
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def make_server(command: str, host: str, port: int, *, public: bool,
                public_url: str | None, banner: str):
    """A textual-serve `Server` that runs `command` for each browser tab, and that refuses
    what the stock one lets through: a WebSocket opened by another site's page (any page
    may open one to 127.0.0.1, and the socket drives the console) and, unless `public`, a
    request whose Host is not a loopback name."""
    from aiohttp import web
    from textual_serve.server import Server

    @web.middleware
    async def same_site_only(request: web.Request, handler):
        if not public and not _loopback_name(request.host):
            raise web.HTTPForbidden(text="gemops serves this console to loopback names only")
        origin = request.headers.get("Origin")
        if request.path == "/ws" and origin is not None:
            allowed = {request.host}
            if public_url:
                allowed.add(urlsplit(public_url).netloc)
            if urlsplit(origin).netloc not in allowed:
                raise web.HTTPForbidden(text="a console socket opened by another site")
        return await handler(request)

    class ConsoleServer(Server):
        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(same_site_only)
            return app

        async def handle_index(self, request: web.Request):
            if not public_url:
                # The page's socket URL is the address the browser used, so a wildcard host
                # (0.0.0.0) still gives remote browsers a URL they can reach.
                self.public_url = f"{request.scheme}://{request.host}"
            return await super().handle_index(request)

        async def on_startup(self, app: web.Application) -> None:
            click.echo(banner)

    return ConsoleServer(command, host=host, port=port, title="gemops",
                         public_url=public_url)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="the address to listen on (loopback unless --public)")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--public", is_flag=True,
              help="allow a host that is not loopback: whoever reaches it gets the console")
@click.option("--public-url", metavar="URL",
              help="the URL browsers use (behind a TLS proxy); default: the one they asked for")
def serve(host: str, port: int, public: bool, public_url: str | None) -> None:
    """Serve the console to a web browser (each tab runs its own console) until Ctrl+C."""

    from console.cli import _settings

    if not public and not is_loopback(host):
        raise click.UsageError(
            f"--host {host or '(empty)'} is not a loopback address: whoever can reach it gets "
            "the console and the API key's spending; add --public to serve it anyway")
    # A settings problem is said once here, not in every browser tab that opens.
    settings = _settings()
    shown = f"[{host}]" if ":" in host else host
    banner = (f"Serving the gemops console ({settings.mode.value}) on "
              f"{public_url or f'http://{shown}:{port}'} (each tab runs its own console; "
              "Ctrl+C stops)")
    command = shlex.join([sys.executable, "-m", "console.cli"])
    make_server(command, host, port, public=public, public_url=public_url,
                banner=banner).serve()
