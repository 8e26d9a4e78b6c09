"""Logs as one JSON object per line (structlog), with personal data replaced by the
placeholders the chat uses, whatever logged it: Keel, Django, a library, daphne's access
log (`assistant.project.server` sends it through logging)."""

import logging
import threading

import structlog

from assistant.rails.personal_data import ALL_KINDS, personal_data_redact

_scrubbing = threading.local()
# Set by the formatter itself, never personal data (a timestamp's digits look like a phone).
_OWN_KEYS = frozenset({"timestamp", "level", "logger"})
# The server's start-up lines ("Listening on TCP address 10.0.0.5:8000") name the address it
# was told to listen on: the operator's configuration, kept. Its warnings and errors (an
# application's exception) and its access log ("daphne.access") may hold a customer's.
_SERVER_CONFIGURATION = frozenset({"daphne.cli", "daphne.server"})
_BUT_ADDRESSES = ALL_KINDS - {"IP_ADDRESS"}


def personal_data_scrubbed(logger, method_name, event_dict: dict) -> dict:
    # Presidio logs too: its own records, written while it scrubs, pass as they are.
    if getattr(_scrubbing, "active", False):
        return event_dict
    _scrubbing.active = True
    configuration = (
        event_dict.get("logger") in _SERVER_CONFIGURATION and event_dict.get("level") == "info"
    )
    kinds = _BUT_ADDRESSES if configuration else ALL_KINDS
    try:
        return {
            key: personal_data_redact(text=value, kinds=kinds).text
            if isinstance(value, str) and key not in _OWN_KEYS
            else value
            for key, value in event_dict.items()
        }
    finally:
        _scrubbing.active = False


class JsonFormatter(structlog.stdlib.ProcessorFormatter):
    def __init__(self, *args, **kwargs):
        super().__init__(
            *args,
            foreign_pre_chain=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.processors.TimeStamper(fmt="iso"),
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                personal_data_scrubbed,
                structlog.processors.JSONRenderer(),
            ],
            **kwargs,
        )


def record_json(record: logging.LogRecord) -> str:
    """One record as the log line it becomes (for tests and tools)."""
    return JsonFormatter().format(record)
