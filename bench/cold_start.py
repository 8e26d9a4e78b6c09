"""A fresh server process: how long it takes to be ready, and its first answers.

A new Python process imports `assistant.asgi`, as daphne does before it listens (the
answer path's models load there), then answers two questions in one event loop with the
extractive backend, each in a new conversation. The first answer is what the first
customer after a deploy or a restart waits for; the second, a warm one, is the baseline.
"""

import json
import os
import subprocess
import sys
from collections.abc import Sequence

from django.conf import settings

from assistant.models import Workspace

FIRST_ANSWERS = """
import asyncio, json, sys, time

started = time.perf_counter()
import assistant.asgi  # noqa: F401
ready = time.perf_counter()

from assistant import pipeline
from assistant.models import Conversation, Workspace
from assistant.threads import in_thread


async def answers_timed(workspace, questions):
    timed = []
    for number, question in enumerate(questions):
        conversation = await in_thread(Conversation.objects.create)(
            workspace=workspace, visitor_key=f"bench-cold-start-{number}"
        )
        asked = time.perf_counter()
        answer = await pipeline.answer(conversation=conversation, text=question)
        outcome = answer.outcome if answer else "handed to a person"
        timed.append({"ms": (time.perf_counter() - asked) * 1000, "outcome": outcome})
    return timed


workspace = Workspace.objects.get(pk=int(sys.argv[1]))
first, second = asyncio.run(answers_timed(workspace, sys.argv[2:4]))
print(json.dumps({"ready_s": ready - started, "first": first, "second": second}))
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
    return {
        "ready_s": round(timed["ready_s"], 2),
        "first_answer_ms": round(timed["first"]["ms"], 1),
        "second_answer_ms": round(timed["second"]["ms"], 1),
        "outcomes": [timed["first"]["outcome"], timed["second"]["outcome"]],
    }
