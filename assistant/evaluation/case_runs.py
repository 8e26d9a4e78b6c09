"""The one runner of test cases, for the publish gate (`policy_checks`) and evaluation runs
(`evaluation_runs`): each case asked in a fresh sandbox conversation, handed to its caller
to judge and store, the run's status set as it goes. A retried job goes on where it
stopped: the cases already stored are not asked again.

What is each caller's own: which cases, how a case is judged, which rows store it, what
finishing means (the gate's audit event, an evaluation's metrics)."""

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from assistant.answering.sandbox import sandbox_reply
from assistant.common.threads import in_thread
from assistant.models import EvalRun, Message, PolicyCheck, PolicyVersion

logger = logging.getLogger(__name__)

# Both models share these status names.
RUNNING, FINISHED, FAILED = "running", "finished", "failed"


class RunCase(Protocol):
    """What the runner needs of a caller's case."""

    key: str  # unique within the run: its result is stored under it
    text: str
    earlier_turns: Sequence[str]  # asked and answered first, in the same conversation


C = TypeVar("C", bound=RunCase)


@dataclass(frozen=True)
class CaseAsked:
    """What the runner hands the caller's store for one case."""

    answer: Message | None  # None: over the message limit, so never asked
    latency_ms: int | None


def over_message_limit(text: str) -> bool:
    """A case the widget never sends on: the customer is asked to shorten it instead."""
    return len(text) > settings.KEEL_MAX_MESSAGE_CHARS


async def case_run_all(
    *,
    run: EvalRun | PolicyCheck,
    label: str,
    workspace_id: int,
    pinned_policy: PolicyVersion | None,
    cases: Callable[[], Sequence[C]],
    result_key: str,
    case_store: Callable[..., Awaitable[None]],
    run_finish: Callable[[], None],
    failure_text: str,
    on_case: Callable[[], None] = lambda: None,
) -> None:
    """Asks every case not stored yet and awaits `case_store(case=, asked=)` for each;
    then `run_finish()` in the transaction that marks the run finished. `label` names the
    sandbox conversations (their visitor key); `result_key` is the result's field that
    holds the case's key. `cases` reads the database, so it runs on a thread. On an error the run is
    marked failed with `failure_text` (the exception goes to the log) and it is raised
    again, so the job queue may retry."""
    await in_thread(_status_set)(run=run, status=RUNNING)
    try:
        to_ask = await in_thread(cases)()
        done = set(await in_thread(list)(run.results.values_list(result_key, flat=True)))
        for case in to_ask:
            if case.key not in done:
                asked = await _case_ask(
                    case=case, workspace_id=workspace_id, label=label, pinned_policy=pinned_policy
                )
                await case_store(case=case, asked=asked)
            on_case()
    except Exception:
        logger.exception("Running the cases of %s failed", label)
        await in_thread(_status_set)(run=run, status=FAILED, error=failure_text)
        raise
    await in_thread(_finish)(run=run, run_finish=run_finish)


async def _case_ask(
    *, case: RunCase, workspace_id: int, label: str, pinned_policy: PolicyVersion | None
) -> CaseAsked:
    if over_message_limit(case.text):
        return CaseAsked(answer=None, latency_ms=None)
    started = time.perf_counter()
    answer = await sandbox_reply(
        workspace_id=workspace_id,
        text=case.text,
        label=label,
        pinned_policy=pinned_policy,
        earlier_turns=case.earlier_turns,
    )
    return CaseAsked(answer=answer, latency_ms=round((time.perf_counter() - started) * 1000))


def _finish(*, run: EvalRun | PolicyCheck, run_finish: Callable[[], None]) -> None:
    with transaction.atomic():
        run_finish()
        _status_set(run=run, status=FINISHED)


def _status_set(*, run: EvalRun | PolicyCheck, status: str, error: str = "") -> None:
    finished_at = timezone.now() if status in (FINISHED, FAILED) else None
    type(run).objects.filter(pk=run.pk).update(status=status, error=error, finished_at=finished_at)
    run.status, run.error, run.finished_at = status, error, finished_at
