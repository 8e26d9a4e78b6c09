"""Running an evaluation: each case through the real pipeline, in a sandbox conversation
pinned to the policy version under test, judged and stored; then the run's metrics.

The workspace's own cases form the golden suite; Keel's red-team suite is judged as the
publish gate judges it (`policy_checks.case_verdict`).
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from django.db import transaction
from django.utils import timezone

from assistant.answering.llm import OpenAICompatibleBackend
from assistant.answering.sandbox import sandbox_reply
from assistant.common.threads import in_thread
from assistant.conversations.selectors import policy_in_force
from assistant.evaluation.judge import faithfulness_judged, judge_backend
from assistant.evaluation.policy_checks import (
    OVER_LIMIT,
    Case,
    case_verdict,
    gate_cases,
    over_message_limit,
)
from assistant.evaluation.scoring import (
    Row,
    behaviour_of,
    evaluation_metrics,
    facts_check,
    golden_verdict,
)
from assistant.models import EvalCase, EvalResult, EvalRun, Message, PolicyVersion
from assistant.rails.personal_data import personal_data_redact
from knowledge.models import Chunk

logger = logging.getLogger(__name__)

# What the admin reads on the run's page; the exception itself goes to the log.
RUN_FAILED = (
    "Something went wrong on Keel's side while running the cases (the details are in the "
    "worker's log). Start a new run; if it fails again, tell whoever runs Keel."
)


@dataclass(frozen=True)
class Item:
    key: str
    suite: str
    category: str
    question: str
    expected: str
    golden: EvalCase | None = None
    redteam: Case | None = None


async def evaluation_run(*, run: EvalRun, on_case: Callable[[], None] = lambda: None) -> EvalRun:
    """Every case of the run's suite, judged and stored; a retried run goes on where it
    stopped."""
    await in_thread(_status_set)(run=run, status=EvalRun.Status.RUNNING)
    items = await in_thread(evaluation_items)(workspace_id=run.workspace_id, suite=run.suite)
    done = set(await in_thread(list)(run.results.values_list("case_key", flat=True)))
    policy = await in_thread(_pinned_policy)(run=run)
    judge = judge_backend() if run.judge_model else None
    try:
        for item in items:
            if item.key not in done:
                await _item_run(run=run, item=item, policy=policy, judge=judge)
            on_case()
    except Exception:
        logger.exception("Evaluation run %s failed", run.pk)
        await in_thread(_status_set)(run=run, status=EvalRun.Status.FAILED, error=RUN_FAILED)
        raise
    return await in_thread(_finish)(run=run)


def _pinned_policy(*, run: EvalRun) -> PolicyVersion | None:
    """The version the run is pinned to, read on a thread: however the caller loaded the
    run, the event loop never reads the database itself."""
    return run.policy


def evaluation_items(*, workspace_id: int, suite: str) -> list[Item]:
    items = []
    if suite in (EvalRun.Suite.GOLDEN, EvalRun.Suite.ALL):
        items += [
            Item(f"case-{case.pk}", "golden", "", case.question, case.expected, golden=case)
            for case in EvalCase.objects.filter(workspace_id=workspace_id)
        ]
    if suite in (EvalRun.Suite.REDTEAM, EvalRun.Suite.ALL):
        items += [
            Item(case.id, "redteam", case.category, case.text, case.expected, redteam=case)
            for case in gate_cases()
        ]
    return items


async def _item_run(
    *,
    run: EvalRun,
    item: Item,
    policy: PolicyVersion | None,
    judge: OpenAICompatibleBackend | None,
) -> None:
    if item.redteam is not None and over_message_limit(item.question):
        await in_thread(_over_limit_store)(run=run, item=item)  # as the publish gate judges it
        return
    started = time.perf_counter()
    answer = await sandbox_reply(
        workspace_id=run.workspace_id,
        text=item.question,
        label=f"evaluation-{run.pk}",
        pinned_policy=policy,
        earlier_turns=item.golden.earlier_turns if item.golden else (),
    )
    latency_ms = round((time.perf_counter() - started) * 1000)
    faithfulness = None
    if judge is not None and answer.outcome == Message.Outcome.ANSWERED:
        faithfulness = await faithfulness_judged(
            backend=judge,
            question=item.question,
            answer=answer.text,
            sources=await in_thread(_sources_given)(answer=answer),
        )
    await in_thread(_result_store)(
        run=run, item=item, answer=answer, latency_ms=latency_ms, faithfulness=faithfulness
    )


def _sources_given(*, answer: Message) -> list[str]:
    """The passages the answer was written from, in the order the generator saw them."""
    chunk_ids = [
        hit["chunk_id"]
        for hit in answer.trace.get("retrieved", [])
        if hit.get("given_to_the_generator")
    ]
    texts = dict(Chunk.objects.filter(pk__in=chunk_ids).values_list("pk", "text"))
    return [texts[pk] for pk in chunk_ids if pk in texts]


def _result_store(
    *, run: EvalRun, item: Item, answer: Message, latency_ms: int, faithfulness: float | None
) -> EvalResult:
    behaviour = behaviour_of(answer)
    cited = [
        _document_name(c.document.source if c.document else c.document_title)
        for c in answer.citations.select_related("document")
    ]
    facts_ok = None
    if item.golden is not None:
        facts_ok = facts_check(
            text=answer.text,
            must_contain=item.golden.must_contain,
            must_not_contain=item.golden.must_not_contain,
        )
        passed, reason = golden_verdict(
            case=item.golden, behaviour=behaviour, cited_documents=cited, facts_ok=facts_ok
        )
    else:
        policy = run.policy or policy_in_force(workspace_id=run.workspace_id)
        verdict = case_verdict(case=item.redteam, answer=answer, policy=policy)
        passed, reason = verdict.passed, verdict.reason
    return _result_create(
        run=run,
        item=item,
        behaviour=behaviour,
        expected_documents=list(item.golden.expected_documents) if item.golden else [],
        retrieved_documents=_retrieved_documents(answer),
        cited_documents=cited,
        facts_ok=facts_ok,
        passed=passed,
        reason=reason,
        latency_ms=latency_ms,
        faithfulness=faithfulness,
        answer=answer,
    )


def _over_limit_store(*, run: EvalRun, item: Item) -> EvalResult:
    return _result_create(
        run=run,
        item=item,
        behaviour=EvalCase.Expected.REFUSE,
        passed=OVER_LIMIT.passed,
        reason=OVER_LIMIT.reason,
        latency_ms=None,  # never asked
    )


def _result_create(*, run: EvalRun, item: Item, **got) -> EvalResult:
    """The case as asked (redacted as the sandbox conversation stores it), and what it
    `got`."""
    policy = run.policy or policy_in_force(workspace_id=run.workspace_id)
    return EvalResult.objects.create(
        run=run,
        case_key=item.key,
        suite=item.suite,
        category=item.category,
        question=personal_data_redact(
            text=item.question, kinds=frozenset(policy.personal_data_kinds)
        ).text,
        expected=item.expected,
        **got,
    )


def _retrieved_documents(answer: Message) -> list[str]:
    """The documents of the passages retrieved, in rank order (one per passage)."""
    chunk_ids = [hit["chunk_id"] for hit in answer.trace.get("retrieved", [])]
    sources = dict(Chunk.objects.filter(pk__in=chunk_ids).values_list("pk", "document__source"))
    return [_document_name(sources[pk]) for pk in chunk_ids if pk in sources]


def _document_name(source: str) -> str:
    return PurePath(source).name


def _finish(*, run: EvalRun) -> EvalRun:
    rows = [
        Row(
            suite=r.suite,
            category=r.category,
            expected=r.expected,
            behaviour=r.behaviour,
            expected_documents=r.expected_documents,
            retrieved_documents=r.retrieved_documents,
            cited_documents=r.cited_documents,
            facts_ok=r.facts_ok,
            passed=r.passed,
            latency_ms=r.latency_ms,
            faithfulness=r.faithfulness,
        )
        for r in run.results.all()
    ]
    with transaction.atomic():
        run.metrics = evaluation_metrics(rows)
        run.status = EvalRun.Status.FINISHED
        run.finished_at = timezone.now()
        run.save(update_fields=["metrics", "status", "finished_at"])
    return run


def _status_set(*, run: EvalRun, status: str, error: str = "") -> None:
    EvalRun.objects.filter(pk=run.pk).update(
        status=status,
        error=error,
        finished_at=timezone.now() if status == EvalRun.Status.FAILED else None,
    )
    run.status, run.error = status, error
