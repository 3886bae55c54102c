"""Input types every service shares: identifiers and text that are safe to store (PostgreSQL
refuses a NUL byte, and a query carrying one used to be a 500), to log, to write into a CSV
or iCalendar line, and to echo back in a problem.

- `Id`: an opaque identifier, in a path, a query or a body: 1..128 characters, none of them
  whitespace or a control character. Ours are `new_id(prefix)` (30 characters); others come
  from elsewhere (a token's `org` and `sub`, the registry) and are at most 128 everywhere.
- `FactoryId`: `Id` as the `{factory_id}` path parameter of every service.
- `text(max_length)`: one line of text, stripped, without control characters;
  `text(max_length, multiline=True)` also keeps tab, line feed and carriage return.

A refusal is a 422 that says which character and where ("must not contain control
characters: U+0000 at index 3"), and the OpenAPI schema carries the same rule as its
`pattern`, so the contract says what is accepted (and Schemathesis generates from it).
Control characters are Unicode's `Cc`: U+0000..U+001F, U+007F and U+0080..U+009F.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Path
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

__all__ = [
    "CONTROL_CHARS",
    "ID_MAX_LENGTH",
    "ID_PATTERN",
    "LINES_PATTERN",
    "LINE_PATTERN",
    "FactoryId",
    "Id",
    "TextRules",
    "text",
]

ID_MAX_LENGTH = 128
# Unicode's `Cc` as a regex character-class body: every pattern below (and the services'
# `shape`s, such as an email or a URL) refuses these through it.
CONTROL_CHARS = r"\x00-\x1f\x7f-\x9f"
ID_PATTERN = rf"^[^\s{CONTROL_CHARS}]+$"
LINE_PATTERN = rf"^[^{CONTROL_CHARS}]*$"
LINES_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"  # tab, LF and CR allowed


@dataclass(frozen=True, slots=True)
class TextRules:
    """Pydantic metadata for a `str`: lengths, stripping, the characters `allowed` (checked
    with a message naming the first other one), and optionally a `shape` the whole value
    must have. The JSON schema publishes `shape` if given (it must then refuse what
    `allowed` refuses), else `allowed`."""

    max_length: int
    min_length: int = 1
    strip: bool = True
    allowed: str = LINE_PATTERN
    refused: str = "control characters"
    shape: str | None = None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        allowed = re.compile(self.allowed)
        shape = re.compile(self.shape) if self.shape else None

        def check(value: str) -> str:
            # fullmatch: with `search`, `$` would also match before a final line feed.
            if not allowed.fullmatch(value):
                raise PydanticCustomError(
                    "forbidden_character",
                    "must not contain {refused}: {found}",
                    {"refused": self.refused, "found": _first_refused(value, allowed)},
                )
            if shape is not None and not shape.fullmatch(value):
                raise PydanticCustomError(
                    "string_pattern_mismatch",
                    "String should match pattern '{pattern}'",
                    {"pattern": shape.pattern},
                )
            return value

        base = core_schema.str_schema(
            min_length=self.min_length, max_length=self.max_length, strip_whitespace=self.strip
        )
        return core_schema.no_info_after_validator_function(check, base)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = self.shape or self.allowed
        return json_schema


def _first_refused(value: str, allowed: re.Pattern[str]) -> str:
    index, char = next(
        ((i, c) for i, c in enumerate(value) if not allowed.fullmatch(c)), (0, value[:1])
    )
    return f"U+{ord(char):04X} at index {index}" if char else "an empty value"


def text(
    max_length: int,
    *,
    min_length: int = 1,
    multiline: bool = False,
    strip: bool = True,
    shape: str | None = None,
) -> TextRules:
    """Rules for text of at most `max_length` characters: `Annotated[str, text(200)]`."""
    return TextRules(
        max_length=max_length,
        min_length=min_length,
        strip=strip,
        allowed=LINES_PATTERN if multiline else LINE_PATTERN,
        shape=shape,
    )


Id = Annotated[
    str,
    TextRules(
        max_length=ID_MAX_LENGTH,
        strip=False,
        allowed=ID_PATTERN,
        refused="whitespace or control characters",
    ),
]
FactoryId = Annotated[
    Id,
    Path(
        description="The factory's registry id (eligibility issues `fac_…`).",
        examples=["fac_01JD3ZQ8V5N1W2X3Y4Z5A6B7C8"],
    ),
]
