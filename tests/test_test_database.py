"""The tests run on an embedded PostgreSQL of their own: `make test` stops and starts its
server (test_faults), which must never be the one a developer's `make run` serves from."""

from pathlib import Path

from django.conf import settings
from django.db import connection


def test_the_tests_database_server_runs_from_the_tests_own_folder(db):
    with connection.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        (data_directory,) = cursor.fetchone()

    assert Path(data_directory) == settings.BASE_DIR / ".keel" / "test-pgdata"
    assert Path(data_directory) != settings.KEEL_HOME / "pgdata"  # `make run`'s
