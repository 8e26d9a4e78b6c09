"""A fresh server process: how long it takes to be ready, and its first answers.

A new Python process imports `assistant.project.asgi`, as daphne does before it listens (the
answer path's models load there), then answers two questions as the answers bench does
(`bench.answers.answers_timed`: one event loop, each in a new conversation) with the
extractive backend. The first answer is what the first customer after a deploy or a
restart waits for; the second, a warm one, is the baseline.
"""

import json
import os
import subprocess
import sys
from collections.abc import Sequence

from django.conf import settings

from assistant.models import Workspace

FIRST_ANSWERS = """
import json, sys, time

started = time.perf_counter()
import assistant.project.asgi  # noqa: F401
ready = time.perf_counter()

from assistant.models import Workspace
from bench.answers import answers_timed

workspace = Workspace.objects.get(pk=int(sys.argv[1]))
first, second = answers_timed(workspace=workspace, questions=sys.argv[2:4])
print(json.dumps({
    "ready_s": ready - started,
    "answers_ms": [first.wall_ms, second.wall_ms],
    "outcomes": [t.answer.outcome if t.answer else "handed to a person" for t in (first, second)],
}))
"""


def cold_start_measure(*, workspace: Workspace, questions: Sequence[str]) -> dict:
    """`questions`: two, answered in this order by the new process."""
    finished = subprocess.run(
        [sys.executable, "-c", FIRST_ANSWERS, str(workspace.pk), *questions[:2]],
        cwd=settings.BASE_DIR,
        # The extractive backend, whatever LLM the environment names: no model's time in it.
        env={name: value for name, value in os.environ.items() if not name.startswith("LLM_")},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    timed = json.loads(finished.stdout.splitlines()[-1])
    first_ms, second_ms = timed["answers_ms"]
    return {
        "ready_s": round(timed["ready_s"], 2),
        "first_answer_ms": round(first_ms, 1),
        "second_answer_ms": round(second_ms, 1),
        "outcomes": timed["outcomes"],
    }
