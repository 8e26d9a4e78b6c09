"""A server process loads the answer path's models before it listens, without the database."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command

from assistant.rails import injection

LOADED_AFTER_IMPORT = """
import json
import sys
import assistant.project.asgi
from django.template import engines
from assistant.rails import injection, personal_data
from knowledge import embeddings
compiled = engines["django"].engine.template_loaders[0].get_template_cache
print(json.dumps({
    "encoder": embeddings._encoder.cache_info().currsize,
    "injection classifier": injection._classifier.cache_info().currsize,
    "personal data analyzer": personal_data._analyzer.cache_info().currsize,
    "URLconf": "assistant.project.urls" in sys.modules,
    "pushed templates": [
        name for name in ("widget/_message.html", "console/_message.html") if name in compiled
    ],
}))
"""


@pytest.mark.processes
def test_the_asgi_application_loads_every_model_a_first_answer_needs():
    finished = subprocess.run(
        [sys.executable, "-c", LOADED_AFTER_IMPORT],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            # Nothing listens there: a warm-up that touched the database would fail.
            "DATABASE_URL": "postgresql://keel@127.0.0.1:9/unreachable",
        },
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert finished.returncode == 0, finished.stderr
    loaded = json.loads(finished.stdout.splitlines()[-1])
    assert loaded == {
        "encoder": 1,
        "injection classifier": 1,
        "personal data analyzer": 1,
        "URLconf": True,
        "pushed templates": ["widget/_message.html", "console/_message.html"],
    }


@pytest.mark.usefixtures("job_queue")
def test_the_worker_command_loads_the_answer_path_before_it_takes_a_job():
    injection._classifier.cache_clear()

    call_command("worker", "--one-shot")  # the queue is empty: it stops at once

    assert injection._classifier.cache_info().currsize == 1
