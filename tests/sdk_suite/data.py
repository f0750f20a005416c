"""Small valid stand-ins for the media files google-genai's tests open but its wheel omits.

Tests that open `tests/data/<name>` relative to the working directory get one of these in the
runner's temporary working directory; the emulator never looks inside a file's bytes beyond its
MIME type and size, so a 1-pixel image or an empty-track MP4 serves the same request shapes.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

_CWD_DATA = re.compile(r"""['"]tests/data/([A-Za-z0-9_.-]+)['"]""")


def _png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1×1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _jpeg() -> bytes:
    """An 8×8 grey baseline JPEG: one block, DC difference 0 and end-of-block."""

    def segment(marker: int, body: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body

    dqt = segment(0xDB, b"\x00" + b"\x01" * 64)
    sof = segment(0xC0, struct.pack(">BHHB", 8, 8, 8, 1) + b"\x01\x11\x00")
    one_code = b"\x01" + b"\x00" * 15 + b"\x00"  # a single 1-bit code for symbol 0
    dht = segment(0xC4, b"\x00" + one_code + b"\x10" + one_code)
    sos = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    return b"\xff\xd8" + dqt + sof + dht + sos + b"\x3f" + b"\xff\xd9"


def _pdf() -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _iso_media(brand: bytes) -> Callable[[], bytes]:
    def build() -> bytes:
        ftyp = brand + b"\x00\x00\x02\x00" + brand + b"isommp41"
        return struct.pack(">I", 8 + len(ftyp)) + b"ftyp" + ftyp + struct.pack(">I", 8) + b"mdat"

    return build


def _wav() -> bytes:
    samples = b"\x00\x00" * 1600  # 0.1 s of 16 kHz mono silence
    fmt = struct.pack("<HHIIHH", 1, 1, 16000, 32000, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(samples)) + samples
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _text() -> bytes:
    return b"Once upon a time a small emulator answered every request it was sent.\n" * 8


BUILDERS: dict[str, Callable[[], bytes]] = {
    ".png": _png,
    ".jpg": _jpeg,
    ".jpeg": _jpeg,
    ".pdf": _pdf,
    ".mp4": _iso_media(b"isom"),
    ".m4a": _iso_media(b"M4A "),
    ".wav": _wav,
    ".txt": _text,
}


def cwd_data_names(test_files: list[Path]) -> set[str]:
    """The `tests/data/<name>` files the given test modules open relative to the cwd."""
    names: set[str] = set()
    for path in test_files:
        names.update(_CWD_DATA.findall(path.read_text(encoding="utf-8", errors="replace")))
    return names


def synthesize(names: set[str], cwd: Path) -> list[str]:
    """Write each named file under `cwd/tests/data/`; returns the names it could build."""
    folder = cwd / "tests" / "data"
    folder.mkdir(parents=True, exist_ok=True)
    built = []
    for name in sorted(names):
        builder = BUILDERS.get(Path(name).suffix.lower())
        if builder is not None:
            (folder / name).write_bytes(builder())
            built.append(name)
    return built
