"""Daphne as Keel runs it (`python -m assistant.project.server`, with daphne's own arguments): its
access log goes through logging ("daphne.access") instead of straight to stdout (or to
--access-log's file), so each line is JSON like everything else logged, without the
customer's address."""

import logging

from daphne.access import AccessLogGenerator
from daphne.cli import CommandLineInterface
from daphne.server import Server

_access = logging.getLogger("daphne.access")
# Every client of the server is a customer (or a proxy's forwarded customer): their address
# is replaced where it is known, not searched for in the line (which took 5 to 12 ms a line).
CLIENT = "[IP_ADDRESS]"


class _AccessLog(AccessLogGenerator):
    """daphne's entries (requests, socket connects and disconnects) as log records; the
    date is the record's own."""

    def __init__(self):
        super().__init__(stream=None)

    def write_entry(self, host, date, request, status=None, length=None, ident=None, user=None):
        _access.info('%s "%s" %s %s', CLIENT, request, status or "-", length or "-")


class _Server(Server):
    def __init__(self, *args, action_logger=None, **kwargs):
        # daphne keeps an access log from verbosity 1 (its default) or with --access-log.
        super().__init__(*args, action_logger=_AccessLog() if action_logger else None, **kwargs)


class _CommandLine(CommandLineInterface):
    server_class = _Server


if __name__ == "__main__":
    _CommandLine.entrypoint()
