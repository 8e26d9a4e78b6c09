"""The embedded PostgreSQL is sized for the machine it runs on."""

import json
import subprocess
import sys

from assistant.project.embedded_db import machine_memory, memory_settings

# Starts (or joins) the server under a folder; at exit, the last handle stops it.
START = """
import sys
from pathlib import Path
from assistant.project.embedded_db import embedded_database_url
embedded_database_url(data_dir=Path(sys.argv[1]), database="sized")
"""
# Starts it again; prints each setting as the running server has it and as it was wanted,
# both in bytes.
READ = """
import json, sys
from pathlib import Path
import psycopg
from assistant.project.embedded_db import embedded_database_url
url = embedded_database_url(data_dir=Path(sys.argv[1]), database="sized")
wanted = json.loads(sys.argv[2])
with psycopg.connect(url) as connection:
    print(json.dumps({
        name: connection.execute(
            "SELECT pg_size_bytes(current_setting(%s)), pg_size_bytes(%s)", [name, value]
        ).fetchone()
        for name, value in wanted.items()
    }))
"""


def test_the_embedded_server_runs_with_memory_sized_for_the_machine(tmp_path):
    """A new cluster is given the settings at its first start; shared_buffers takes
    effect at the next start, once every process that held the first has exited."""
    wanted = memory_settings(memory=machine_memory())
    data_dir = str(tmp_path / "pgdata")

    subprocess.run([sys.executable, "-c", START, data_dir], check=True, capture_output=True)
    read = subprocess.run(
        [sys.executable, "-c", READ, data_dir, json.dumps(wanted)],
        check=True,
        capture_output=True,
        text=True,
    )

    running = json.loads(read.stdout.splitlines()[-1])
    assert {name: running_bytes for name, (running_bytes, _) in running.items()} == {
        name: wanted_bytes for name, (_, wanted_bytes) in running.items()
    }
    assert set(running) == {"shared_buffers", "effective_cache_size", "work_mem"}


def test_memory_settings_grow_with_the_machine_within_bounds():
    small = memory_settings(memory=2 * 2**30)
    large = memory_settings(memory=64 * 2**30)

    assert small == {"shared_buffers": "512MB", "effective_cache_size": "1024MB", "work_mem": "4MB"}
    assert large == {
        "shared_buffers": "2048MB",  # a quarter, at most 2 GB
        "effective_cache_size": "32768MB",
        "work_mem": "64MB",
    }
