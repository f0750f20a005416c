"""Structured output through the unmodified SDK: `responseSchema` / `responseJsonSchema` answers
validate against the schema and are deterministic from the prompt."""

from __future__ import annotations

import enum
import json

import jsonschema
import pytest
from google.genai import types
from pydantic import BaseModel, Field

from console.emulator import structured

MODEL = "gemini-2.5-flash"


class Tone(enum.Enum):
    POLITE = "polite"
    NEUTRAL = "neutral"
    RUDE = "rude"


class Citation(BaseModel):
    source: str = Field(min_length=3, max_length=12)
    page: int = Field(ge=1, le=400)


class Verdict(BaseModel):
    accuracy: int = Field(ge=1, le=5)
    confidence: float = Field(ge=0, le=1)
    tone: Tone
    hallucination: bool
    note: str | None = None
    tags: list[str] = Field(min_length=2, max_length=4)
    citations: list[Citation]
    either: int | str


def _to_json_schema(schema):
    """The OpenAPI-style Schema the SDK sends, as JSON Schema (for jsonschema to check)."""
    if isinstance(schema, list):
        return [_to_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    renames = {"min_items": "minItems", "max_items": "maxItems", "any_of": "anyOf",
               "min_length": "minLength", "max_length": "maxLength"}
    out = {}
    for key, value in schema.items():
        if key in ("property_ordering", "propertyOrdering", "nullable", "title"):
            continue
        key = renames.get(key, key)
        if key == "type":
            value = value.lower()
        elif key == "properties":
            value = {k: _to_json_schema(v) for k, v in value.items()}
        else:
            value = _to_json_schema(value)
        out[key] = value
    if schema.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def test_pydantic_schema_parses_and_validates(genai_client):
    config = types.GenerateContentConfig(response_mime_type="application/json",
                                         response_schema=Verdict)
    seen = set()
    for i in range(25):
        response = genai_client.models.generate_content(
            model=MODEL, contents=f"judge answer number {i}", config=config)
        parsed = response.parsed
        assert isinstance(parsed, Verdict), response.text
        assert 1 <= parsed.accuracy <= 5 and 0 <= parsed.confidence <= 1
        assert 2 <= len(parsed.tags) <= 4
        assert all(1 <= c.page <= 400 and 3 <= len(c.source) <= 12 for c in parsed.citations)
        wire = _to_json_schema(_sdk_schema(genai_client, Verdict).model_dump(
            exclude_none=True, mode="json"))
        jsonschema.validate(json.loads(response.text), wire)
        seen.add((parsed.accuracy, parsed.hallucination, parsed.tone))
    assert len(seen) > 5  # the values vary with the prompt


def _sdk_schema(client, model):
    from google.genai import _transformers

    return _transformers.t_schema(client._api_client, model)


def test_deterministic_from_the_prompt(genai_client):
    config = {"response_mime_type": "application/json", "response_schema": Verdict}
    first = genai_client.models.generate_content(model=MODEL, contents="same", config=config)
    again = genai_client.models.generate_content(model="gemini-2.5-pro", contents="same",
                                                 config=config)
    other = genai_client.models.generate_content(model=MODEL, contents="other", config=config)
    assert first.text == again.text != other.text
    # What the emulator answers can be computed offline from the schema it was sent.
    sent = _sdk_schema(genai_client, Verdict).model_dump(exclude_none=True, mode="json",
                                                         by_alias=True)
    assert structured.generate(sent, "same") == first.text


def test_json_schema_with_refs_and_nulls(genai_client):
    schema = Verdict.model_json_schema()
    config = types.GenerateContentConfig(response_mime_type="application/json",
                                         response_json_schema=schema)
    nulls = 0
    for i in range(30):
        response = genai_client.models.generate_content(model=MODEL, contents=f"q{i}",
                                                        config=config)
        value = json.loads(response.text)
        jsonschema.validate(value, schema)
        Verdict.model_validate(value)
        nulls += value.get("note") is None
    assert 0 < nulls < 30  # nullable fields are sometimes null, not always


def test_list_and_enum_and_bare_types(genai_client):
    listed = genai_client.models.generate_content(
        model=MODEL, contents="list them",
        config={"response_mime_type": "application/json", "response_schema": list[Citation]})
    assert isinstance(listed.parsed, list) and all(isinstance(c, Citation) for c in listed.parsed)
    chosen = genai_client.models.generate_content(
        model=MODEL, contents="pick", config={"response_mime_type": "text/x.enum",
                                              "response_schema": Tone})
    assert chosen.parsed in set(Tone)
    raw = genai_client.models.generate_content(
        model=MODEL, contents="raw",
        config={"response_mime_type": "application/json", "response_schema": {
            "type": "OBJECT", "required": ["n"],
            "properties": {"n": {"type": "INTEGER", "minimum": 10, "maximum": 12},
                           "x": {"type": "NUMBER", "minimum": -1, "maximum": -0.5},
                           "when": {"type": "STRING", "format": "date-time"},
                           "maybe": {"type": "STRING", "nullable": True}}}})
    value = json.loads(raw.text)
    assert 10 <= value["n"] <= 12 and -1 <= value["x"] <= -0.5
    assert value["when"].endswith("Z")


async def test_async_client_parses(genai_client):
    config = types.GenerateContentConfig(response_mime_type="application/json",
                                         response_schema=Verdict)
    response = await genai_client.aio.models.generate_content(
        model=MODEL, contents="judge answer number 3", config=config)
    sync = genai_client.models.generate_content(model=MODEL, contents="judge answer number 3",
                                                config=config)
    assert isinstance(response.parsed, Verdict)
    assert response.text == sync.text


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"a": {"type": ["integer", "null"], "exclusiveMinimum": 3,
                                            "exclusiveMaximum": 5}}, "required": ["a"]},
    {"type": "array", "items": {"const": 7}, "minItems": 3, "maxItems": 3},
    {"type": "string", "minLength": 40, "maxLength": 41},
    {"allOf": [{"type": "object", "properties": {"k": {"type": "boolean"}}, "required": ["k"]}]},
])
def test_pure_module_validates(schema):
    for seed in range(40):
        jsonschema.validate(json.loads(structured.generate(schema, f"s{seed}")), schema)
