"""Price tables and what-if workloads read from TOML: a file's entries checked and merged over
the built-in table (a known model keeps the rates the file leaves out; a new one needs its
input and output rates). The only module of the pricing rules that touches files."""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from console.services.price_table import ModelPrice, PriceTable, normalise_model_name
from console.services.pricing import Workload

_MODEL_PRICE_KEYS = frozenset(f.name for f in dataclasses.fields(ModelPrice)) - {"name"}


def _new_model_defaults(name: str) -> dict[str, Any]:
    # A model added only by TOML inherits the family's cache storage and minimum, which
    # the facts file gives per family (Pro vs Flash), when the TOML leaves them out.
    if "pro" in name.split("-"):
        return {"cache_storage_per_hour": 4.50, "cache_min_tokens": 4096}
    return {"cache_storage_per_hour": 1.00, "cache_min_tokens": 1024}


def _model_price_from_entry(
    name: str, entry: Mapping[str, Any], base: ModelPrice | None
) -> ModelPrice:
    if not isinstance(entry, Mapping):
        raise ValueError(f"models.{name!r} must be a table of rates, got {entry!r}")
    unknown = set(entry) - _MODEL_PRICE_KEYS
    if unknown:
        raise ValueError(
            f"models.{name!r}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"expected some of {', '.join(sorted(_MODEL_PRICE_KEYS))}"
        )
    if base is not None:
        return dataclasses.replace(base, **entry)
    missing = {"input", "output"} - set(entry)
    if missing:
        raise ValueError(f"new model {name!r} needs {' and '.join(sorted(missing))} rates")
    return ModelPrice(name=name, **{**_new_model_defaults(name), **entry})


def merge_price_table(data: Mapping[str, Any], *, base: PriceTable) -> PriceTable:
    """`{"models": {...}, "tiers": {...}, "batch_discount": x}` merged over `base`."""
    unknown = set(data) - {"models", "tiers", "batch_discount"}
    if unknown:
        raise ValueError(
            f"unknown price-table key(s): {', '.join(sorted(unknown))}; "
            "expected models, tiers, batch_discount"
        )
    models = dict(base.models)
    for raw_name, entry in (data.get("models") or {}).items():
        name = normalise_model_name(raw_name)
        # Only an exact entry is a base to merge over: a new variant is a new model.
        models[name] = _model_price_from_entry(name, entry, models.get(name))
    tiers = {**base.tiers, **(data.get("tiers") or {})}
    batch_discount = float(data.get("batch_discount", base.batch_discount))
    return PriceTable(models=models, tiers=tiers, batch_discount=batch_discount)


def read_price_table(path: str | Path, *, base: PriceTable | None = None) -> PriceTable:
    """A price-table TOML file merged over `base` (the defaults); errors name the file."""
    with Path(path).open("rb") as handle:
        data = tomllib.load(handle)
    try:
        return merge_price_table(data, base=base if base is not None else PriceTable.default())
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from error


def load_price_table(path: str | Path | None) -> PriceTable:
    """The table in use: the defaults, with the settings' price file merged over them."""
    return read_price_table(Path(path).expanduser()) if path else PriceTable.default()


def workload_from_mapping(data: Mapping[str, Any]) -> Workload:
    """A what-if workload from its fields, at top level or under a [workload] table."""
    body = data.get("workload", data)
    known = {f.name for f in dataclasses.fields(Workload)}
    unknown = set(body) - known
    if unknown:
        raise ValueError(
            f"unknown workload key(s): {', '.join(sorted(unknown))}; "
            f"expected some of {', '.join(sorted(known))}"
        )
    try:
        return Workload(**body)
    except TypeError as error:
        raise ValueError(f"incomplete workload: {error}") from error


def read_workload(path: str | Path) -> Workload:
    with Path(path).open("rb") as handle:
        data = tomllib.load(handle)
    try:
        return workload_from_mapping(data)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error
