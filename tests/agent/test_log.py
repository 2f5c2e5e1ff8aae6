"""Structured logging: JSON lines off a TTY, with run/incident correlation ids."""

from __future__ import annotations

import io
import json
import logging

from agent.log import configure_logging, correlation


def test_json_lines_carry_correlation_ids_and_extras() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "auto", stream=stream)  # StringIO is not a TTY -> JSON
    log = logging.getLogger("paramedic.test")
    with correlation(run_id="run-42", incident_id="inc-7"):
        log.info("diagnosed %s", "oom", extra={"namespace": "shop"})
    log.info("outside")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["msg"] == "diagnosed oom"
    assert first["run_id"] == "run-42"
    assert first["incident_id"] == "inc-7"
    assert first["namespace"] == "shop"
    assert first["level"] == "info"
    assert "run_id" not in second


def test_console_format_is_readable() -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", "console", stream=stream)
    with correlation(run_id="r1"):
        logging.getLogger("x").warning("careful")
    line = stream.getvalue().strip()
    assert "WARNING" in line and "[r1]" in line and line.endswith("careful")


def test_reconfiguring_does_not_duplicate_handlers() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    configure_logging("INFO", "json", stream=stream)
    logging.getLogger("once").info("hello")
    assert len(stream.getvalue().splitlines()) == 1


def test_an_exception_is_logged_with_its_traceback_on_the_json_line() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    try:
        raise ValueError("bad manifest")
    except ValueError:
        logging.getLogger("paramedic.test").exception("sync failed")
    (line,) = (json.loads(text) for text in stream.getvalue().splitlines())
    assert line["msg"] == "sync failed" and line["level"] == "error"
    assert "ValueError: bad manifest" in line["exc"] and "Traceback" in line["exc"]
