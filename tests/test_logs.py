"""Logs are JSON lines and never carry the personal data a customer wrote."""

import json
import logging
from datetime import datetime

from assistant.logs import record_json


def test_a_log_line_is_json_with_personal_data_replaced():
    record = logging.LogRecord(
        name="assistant.consumers",
        level=logging.WARNING,
        pathname=__file__,
        lineno=1,
        msg="Could not answer %s (card %s)",
        args=("sam@example.com", "4111 1111 1111 1111"),
        exc_info=None,
    )

    line = json.loads(record_json(record))

    assert line["level"] == "warning" and line["logger"] == "assistant.consumers"
    assert line["event"] == "Could not answer [EMAIL_1] (card [CARD_1])"
    # Its own fields are left alone: a timestamp's digits are not a phone number.
    assert datetime.fromisoformat(line["timestamp"]).year >= 2026
