"""Logs are one JSON object per line and carry the request id."""

from __future__ import annotations

import json
import logging

from shared.logs import JsonFormatter
from shared.requestid import _request_id


def test_json_log_line_carries_request_id() -> None:
    token = _request_id.set("req-42")
    try:
        record = logging.LogRecord(
            "betterwork.test", logging.INFO, __file__, 1, "hello %s", ("world",), None
        )
        line = json.loads(JsonFormatter("billing").format(record))
    finally:
        _request_id.reset(token)
    assert line["msg"] == "hello world"
    assert line["request_id"] == "req-42"
    assert line["service"] == "billing"
    assert line["level"] == "info"
