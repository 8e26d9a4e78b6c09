"""Logs are JSON lines and never carry the personal data a customer wrote."""

import json
import logging
from datetime import datetime
from http.client import HTTPConnection

import pytest

from assistant.project.logs import record_json
from tests.conftest import daphne_start, free_port, wait_for_port

CLIENT = "127.0.0.2"


def test_a_log_line_is_json_with_personal_data_replaced():
    record = logging.LogRecord(
        name="assistant.widget.consumers",
        level=logging.WARNING,
        pathname=__file__,
        lineno=1,
        msg="Could not answer %s (card %s)",
        args=("sam@example.com", "4111 1111 1111 1111"),
        exc_info=None,
    )

    line = json.loads(record_json(record))

    assert line["level"] == "warning" and line["logger"] == "assistant.widget.consumers"
    assert line["event"] == "Could not answer [EMAIL_1] (card [CARD_1])"
    # Its own fields are left alone: a timestamp's digits are not a phone number.
    assert datetime.fromisoformat(line["timestamp"]).year >= 2026


def logged(name: str, message: str, *args) -> dict:
    record = logging.LogRecord(name, logging.INFO, __file__, 1, message, args, None)
    return json.loads(record_json(record))


def test_the_servers_own_address_is_kept_and_its_clients_addresses_are_redacted():
    assert logged("daphne.server", "Listening on TCP address %s:%s", "10.0.0.5", 8000)["event"] == (
        "Listening on TCP address 10.0.0.5:8000"
    )
    assert logged("daphne.cli", "Starting server at tcp:port=8000:interface=10.0.0.5")["event"] == (
        "Starting server at tcp:port=8000:interface=10.0.0.5"
    )
    access = logged(
        "daphne.access", '198.51.100.23:41234 - - [06/Dec/2026:14:52:02] "GET /" 200 12'
    )
    assert access["event"] == '[IP_ADDRESS_1]:41234 - - [06/Dec/2026:14:52:02] "GET /" 200 12'
    # Whatever else a customer wrote stays redacted in the server's own lines too.
    warning = logged(
        "daphne.server", "Application instance for %s took too long", "sam@example.com"
    )
    assert warning["event"] == "Application instance for [EMAIL_1] took too long"


@pytest.mark.processes
def test_a_real_server_logs_its_address_and_redacts_the_address_of_who_called_it(
    transactional_db, tmp_path
):
    port = free_port()
    log = tmp_path / "daphne.log"
    with log.open("w") as output:
        server = daphne_start(port=port, output=output)
    try:
        wait_for_port(server, port, name="daphne")
        # A client on another loopback address than the one the server listens on.
        client = HTTPConnection("127.0.0.1", port, source_address=(CLIENT, 0))
        client.request("GET", "/health/")
        assert client.getresponse().status == 200
        client.close()
    finally:
        server.terminate()
        server.wait(timeout=30)

    # Before Django's logging is set up, a library or two print lines of their own.
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    events = [line["event"] for line in lines]
    assert f"Listening on TCP address 127.0.0.1:{port}" in events
    access = [line for line in lines if line["logger"] == "daphne.access"]
    assert [line["event"] for line in access] == ['[IP_ADDRESS] "GET /health/" 200 34']
    assert CLIENT not in log.read_text()
