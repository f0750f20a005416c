"""Drop lines are checked against the model's input token limit before anything is sent: a
line far over it is rejected from a cheap estimate, one near it is settled by countTokens, and
short 429s are waited out on the file's tier instead of sending the file to the Batch API."""

from __future__ import annotations

import httpx
import pytest

from console.bootstrap import make_workspace
from console.services.dropfolder import DropFolder, mask_stem
from console.settings import load_settings

LIMIT = 1000  # tokens, set for gemini-2.5-flash through a price-table override


@pytest.fixture
def folder(emulator, tmp_path):
    prices = tmp_path / "prices.toml"
    prices.write_text(f'[models."gemini-2.5-flash"]\ninput_token_limit = {LIMIT}\n')
    settings = load_settings(store={"path": tmp_path / "gemops.sqlite3"},
                             gemini={"base_url": emulator.base_url}, prices={"file": prices})
    ws = make_workspace(settings)
    folder = DropFolder(ws, tmp_path / "drop")
    folder.ensure_layout()
    yield folder
    folder.release()
    ws.close()


def generate_calls(emulator) -> int:
    rows = httpx.get(f"{emulator.base_url}/_emulator/requests",
                     params={"operation": "generateContent", "limit": 5000}).json()["requests"]
    return len(rows)


def test_lines_over_the_input_limit_are_rejected_before_anything_is_sent(folder, emulator):
    lines = [
        '{"key": "small", "prompt": "hello"}',
        '{"key": "huge", "prompt": "%s"}' % ("w" * (LIMIT * 4 * 3)),      # ~3x: estimate alone
        '{"key": "near-over", "prompt": "%s"}' % ("x " * (LIMIT * 3)),  # counted: over
        '{"key": "near-under", "prompt": "%s"}' % ("y" * (LIMIT * 3)),  # counted: under
    ]
    source = folder.root / "standard" / "big.jsonl"
    source.write_text("\n".join(lines) + "\n")
    drop = folder.process(source)
    assert drop is not None and drop.step == "rejected"
    errors = (folder.root / "rejected" / "big.errors.txt").read_text().splitlines()
    over = [e for e in errors if "input limit" in e]
    assert over[0] == (f"standard/big.jsonl:2: request: about 3,000 tokens exceeds "
                       f"gemini-2.5-flash's input limit of {LIMIT:,}")
    assert over[1].startswith("standard/big.jsonl:3: request: ")
    assert f"tokens exceeds gemini-2.5-flash's input limit of {LIMIT:,}" in over[1]
    assert "about" not in over[1]  # countTokens gave the exact figure
    assert len(over) == 2  # line 4 is under the limit by countTokens' reckoning
    assert generate_calls(emulator) == 0


def test_names_with_personal_data_are_masked_for_the_store():
    assert mask_stem("orders-2026-12-01") == "orders-2026-12-01"
    masked = mask_stem("alice@example.com-orders")
    assert "alice" not in masked and masked.endswith("-orders")
    assert "@" not in masked and "[" not in masked
