"""`gemops serve`: the console in a browser, loaded by headless Chromium and read back.

The real `gemops serve` runs in a subprocess on the emulator (no key), its store in tmp_path.
Chromium (driven by Playwright, the system's binary) opens the page; xterm.js draws on a
canvas, so the page's script is served with xterm's screen-reader mode on, and the test reads
what the terminal shows from its accessibility tree. A screenshot is saved under tmp_path.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# textual-serve's bundle creates its terminal with this option literal; one more option turns
# on xterm's accessibility tree (the rows as DOM text) without touching anything else.
XTERM_OPTIONS = "allowProposedApi:!0,fontSize"
WITH_SCREEN_READER = "allowProposedApi:!0,screenReaderMode:!0,fontSize"


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is not installed (.ci/run installs it: apt-get install chromium)")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return path


def environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GEMOPS_API_KEY", "GEMOPS_DEBUG",
                        "GOOGLE_GEMINI_BASE_URL")}
    env.update({
        "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "GEMOPS_CONFIG_FILE": str(tmp_path / "no-config.toml"),
        "GEMOPS_STORE__PATH": str(tmp_path / "gemops.sqlite3"),
    })
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`gemops serve` on a free loopback port; its URL once it answers."""
    port = free_port()
    log = (tmp_path / "serve.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "serve", "--port", str(port)],
        env=environment(tmp_path), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)  # its own group: the consoles it starts stop with it
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            log.seek(0)
            assert process.poll() is None, f"gemops serve exited: {log.read()}"
            assert time.monotonic() < deadline, f"gemops serve did not answer: {log.read()}"
            time.sleep(0.1)  # a subprocess starting up: nothing to inject a clock into
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.seek(0)
        print(f"gemops serve said:\n{log.read()}")
        log.close()


def terminal_rows(page) -> list[str]:
    return page.locator(".xterm-accessibility-tree").inner_text().splitlines()


def wait_for_row(page, index: int | None, text: str) -> None:
    """Until row `index` (any row if None) of the terminal shows `text`."""
    page.wait_for_function(
        """([index, text]) => {
            const tree = document.querySelector('.xterm-accessibility-tree');
            const rows = tree ? tree.innerText.split('\\n') : [];
            if (index === null) return rows.some((row) => row.includes(text));
            return rows.length > index && rows[index].includes(text);
        }""", arg=[index, text], timeout=60_000)


def painted_share(page, png: bytes) -> tuple[int, float]:
    """(distinct colours, share of pixels not the background's colour) in a screenshot,
    decoded by the browser itself."""
    return tuple(page.evaluate("""async (b64) => {
        const image = new Image();
        image.src = 'data:image/png;base64,' + b64;
        await image.decode();
        const canvas = document.createElement('canvas');
        canvas.width = image.width; canvas.height = image.height;
        const context = canvas.getContext('2d');
        context.drawImage(image, 0, 0);
        const data = context.getImageData(0, 0, image.width, image.height).data;
        const counts = new Map();
        for (let i = 0; i < data.length; i += 4) {
            const key = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
            counts.set(key, (counts.get(key) || 0) + 1);
        }
        const background = Math.max(...counts.values());
        return [counts.size, 1 - background / (data.length / 4)];
    }""", base64.b64encode(png).decode()))


def test_the_browser_shows_the_console_and_drives_it(served: str, tmp_path: Path) -> None:
    executable = chromium()
    from playwright.sync_api import sync_playwright

    shot = tmp_path / "gemops-serve.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=executable,
            args=CHROMIUM_ARGS, headless=True, viewport={"width": 1280, "height": 800})
        try:
            # No internet: the page's web font link fails at once instead of waiting.
            browser.route("https://fonts.googleapis.com/**", lambda route: route.abort())
            patched: list[int] = []

            def with_screen_reader(route) -> None:
                response = route.fetch()
                script = response.text()
                patched.append(script.count(XTERM_OPTIONS))
                route.fulfill(response=response,
                              body=script.replace(XTERM_OPTIONS, WITH_SCREEN_READER))

            browser.route("**/static/js/textual.js", with_screen_reader)
            page = browser.pages[0] if browser.pages else browser.new_page()
            page.goto(f"{served}/")
            assert patched == [1], "textual-serve's script no longer creates xterm as expected"

            # The header (row 0): brand, pane title, the EMULATOR badge; then the overview.
            wait_for_row(page, 0, "EMULATOR")
            wait_for_row(page, None, "connected: EMULATOR")  # wait until the embedded emulator answered
            # The connection line above the cards is drawn on the overview's next refresh.
            wait_for_row(page, 1, "EMULATOR at http://127.0.0.1:")
            rows = terminal_rows(page)
            screen = "\n".join(rows)
            assert rows[0].split()[:2] == ["gemops", "Overview"], rows[0]
            assert "EMULATOR at http://127.0.0.1:" in rows[1], rows[1]
            for card in ("Caches", "Batch jobs", "Files", "Drop folder", "Spend today"):
                assert card in screen, screen
            assert "Help" in rows[-1] and "Quit" in rows[-1], rows[-1]

            png = page.screenshot(path=str(shot))
            print(f"screenshot: {shot}")
            colours, painted = painted_share(page, png)
            assert colours >= 8 and painted > 0.02, (colours, painted)

            # Keys typed in the page reach the console: `3` opens the third pane.
            page.locator(".xterm-helper-textarea").focus()
            page.keyboard.press("3")
            wait_for_row(page, 0, "Batch jobs")
            page.screenshot(path=str(tmp_path / "gemops-serve-batches.png"))
        finally:
            browser.close()
    # The console the page ran used this test's store, not a home directory.
    assert (tmp_path / "gemops.sqlite3").exists()
    assert not (tmp_path / "data" / "gemops" / "gemops.sqlite3").exists()


def test_other_sites_and_names_are_refused(served: str) -> None:
    """Any page may open a socket to 127.0.0.1, and the socket drives the console."""
    port = served.rsplit(":", 1)[1]
    hijack = httpx.get(f"{served}/ws", headers={
        "Origin": "http://evil.example", "Connection": "Upgrade", "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert hijack.status_code == 403
    # A DNS-rebinding page reaches 127.0.0.1 under its own name.
    rebound = httpx.get(f"{served}/", headers={"Host": f"evil.example:{port}"})
    assert rebound.status_code == 403
    assert httpx.get(f"{served}/", headers={"Host": f"localhost:{port}"}).status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.7"])
def test_a_host_beyond_loopback_needs_public(host: str, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "console.cli", "serve", "--host", host],
                          env=environment(tmp_path), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: --host "), done.stderr
    assert "--public" in lines[0] and "Traceback" not in done.stderr


def test_loopback_names_are_loopback() -> None:
    from console.commands.serve import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("[::1]")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("") and not is_loopback("10.1.2.3")
