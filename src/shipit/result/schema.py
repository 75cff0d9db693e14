"""The stable JSON form of an ``Analysis``, and its JSON Schema.

The schema is committed beside this module (``schema/analysis-v1.json``) and a test keeps
it equal to the models: changing a field's meaning or removing one needs a new
``SCHEMA_VERSION`` and a new schema file; adding optional fields keeps version 1.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from pydantic import ValidationError

from shipit.errors import DataError
from shipit.result.model import SCHEMA_VERSION, Analysis

__all__ = ["SCHEMA_FILE", "from_json", "json_schema", "published_schema", "to_json", "write_schema"]

SCHEMA_FILE = f"analysis-v{SCHEMA_VERSION}.json"


def to_json(analysis: Analysis, *, indent: int | None = 2) -> str:
    """The analysis as JSON text (snake_case keys, ``null`` for numbers it cannot give)."""
    return analysis.model_dump_json(indent=indent)


def from_json(text: str | bytes) -> Analysis:
    """An analysis back from its JSON text; a clear ``DataError`` if it is not one."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"analysis JSON is not valid JSON: {exc}") from exc
    if isinstance(raw, dict) and raw.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
        raise DataError(
            f"analysis JSON has schema_version {raw.get('schema_version')!r}; "
            f"this version of shipit reads {SCHEMA_VERSION!r}"
        )
    try:
        return Analysis.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DataError(f"analysis JSON: {where}: {first['msg']}") from exc


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the analysis, generated from the models."""
    schema = Analysis.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://shipit.dev/schema/{SCHEMA_FILE}"
    return schema


def published_schema() -> dict[str, Any]:
    """The committed schema file shipped with the package."""
    text = resources.files("shipit.result").joinpath("schema", SCHEMA_FILE).read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def write_schema() -> str:
    """Regenerate the committed schema file from the models (after an intended change)."""
    text = json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
    target = resources.files("shipit.result").joinpath("schema", SCHEMA_FILE)
    with resources.as_file(target) as path:
        path.write_text(text)
    return str(target)
