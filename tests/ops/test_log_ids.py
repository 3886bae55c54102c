"""Every JSON log line carries the request id and, with tracing on, the trace id."""

from __future__ import annotations

import json
import logging

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from shared import tracing
from shared.logs import JsonFormatter
from shared.requestid import _request_id


def _line(message: str) -> dict[str, object]:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, message, None, None)
    parsed: dict[str, object] = json.loads(JsonFormatter("reports").format(record))
    return parsed


def test_log_lines_carry_request_and_trace_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    token = _request_id.set("req-1")
    try:
        assert "trace_id" not in _line("tracing off")  # and nothing is looked up
        monkeypatch.setattr(tracing, "ENABLED", True)
        tracer = TracerProvider().get_tracer("test")  # not the global provider
        with tracer.start_as_current_span("work") as span:
            line = _line("inside a span")
        assert line["request_id"] == "req-1"
        assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
        assert trace.get_current_span() is trace.INVALID_SPAN
    finally:
        _request_id.reset(token)
