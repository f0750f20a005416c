"""`python -m console.emulator --port N`: run the Gemini API emulator in the foreground."""

from __future__ import annotations

import argparse

from console.emulator.server import serve_forever


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m console.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--faults", help="fault profile TOML file")
    parser.add_argument("--state", help="SQLite file that keeps state across restarts")
    parser.add_argument("--config", help="emulator settings TOML file")
    args = parser.parse_args(argv)
    serve_forever(args.host, args.port, args.faults, args.state, args.config)


if __name__ == "__main__":
    main()
