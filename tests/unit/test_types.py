"""shared/types.py: the one rule for identifiers and text every service takes."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.types import ID_MAX_LENGTH, Id, text

ID: TypeAdapter[str] = TypeAdapter(Id)
LINE: TypeAdapter[str] = TypeAdapter(Annotated[str, text(20)])
LINES: TypeAdapter[str] = TypeAdapter(Annotated[str, text(20, multiline=True, strip=False)])
EMAIL: TypeAdapter[str] = TypeAdapter(Annotated[str, text(50, shape=r"^[^@\s]+@[^@\s]+$")])


def error(adapter: TypeAdapter[Any], value: object) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        adapter.validate_python(value)
    found: dict[str, Any] = dict(caught.value.errors()[0])
    return found


@pytest.mark.parametrize(
    "value", ["inv_01JD3ZQ8V5N1W2X3Y4Z5A6B7C8", "first@brand-1", "Việt-Tiến", "x" * ID_MAX_LENGTH]
)
def test_ids_taken(value: str) -> None:
    assert ID.validate_python(value) == value


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ("a\x00b", "U+0000 at index 1"),
        ("a b", "U+0020 at index 1"),
        (" a", "U+0020 at index 0"),
        ("a\n", "U+000A at index 1"),
        ("a\u0085", "U+0085 at index 1"),
        ("a\u00a0b", "U+00A0 at index 1"),
    ],
)
def test_ids_refuse_whitespace_and_control_characters_by_name(value: str, found: str) -> None:
    refused = error(ID, value)
    assert refused["type"] == "forbidden_character"
    assert refused["msg"] == f"must not contain whitespace or control characters: {found}"


@pytest.mark.parametrize("value", ["", "x" * (ID_MAX_LENGTH + 1), 5, None])
def test_ids_are_strings_of_1_to_128_characters(value: object) -> None:
    error(ID, value)


def test_one_line_is_stripped_and_refuses_every_control_character() -> None:
    assert LINE.validate_python("  Golden Star \n") == "Golden Star"
    for char in ["\x00", "\t", "\n", "\r", "\x1b", "\x7f", "\x9f"]:
        assert error(LINE, f"a{char}b")["msg"].startswith("must not contain control characters")
    assert error(LINE, "   ")["type"] == "string_too_short"
    assert error(LINE, "x" * 21)["type"] == "string_too_long"


def test_several_lines_keep_tab_and_line_breaks_only() -> None:
    assert LINES.validate_python(" a\r\n\tb\n") == " a\r\n\tb\n"
    for char in ["\x00", "\x0b", "\x0c", "\x1b", "\x7f", "\x85"]:
        assert error(LINES, f"a{char}b")["type"] == "forbidden_character"


def test_a_shape_is_checked_after_the_characters() -> None:
    assert EMAIL.validate_python("a@b") == "a@b"
    assert error(EMAIL, "a\x00@b")["type"] == "forbidden_character"
    assert error(EMAIL, "ab")["type"] == "string_pattern_mismatch"


def test_the_schema_publishes_the_rule() -> None:
    schema = ID.json_schema()
    assert (schema["maxLength"], schema["minLength"]) == (ID_MAX_LENGTH, 1)
    assert schema["pattern"] == "^[^\\s\\x00-\\x1f\\x7f-\\x9f]+$"
    assert EMAIL.json_schema()["pattern"] == r"^[^@\s]+@[^@\s]+$"
