"""Running an evaluation: each case through the real pipeline, in a sandbox conversation
pinned to the policy version under test, judged and stored; then the run's metrics.

The workspace's own cases form the golden suite; Keel's red-team suite is judged as the
publish gate judges it (`policy_checks.case_verdict`).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from assistant.evaluation import (
    Row,
    behaviour_of,
    evaluation_metrics,
    facts_check,
    golden_verdict,
)
from assistant.models import EvalCase, EvalResult, EvalRun, Message, Workspace
from assistant.policy_checks import Case, case_verdict, gate_cases
from assistant.sandbox import sandbox_reply
from assistant.selectors import policy_draft, policy_in_force
from assistant.threads import in_thread
from knowledge.models import Chunk


@dataclass(frozen=True)
class Item:
    key: str
    suite: str
    category: str
    question: str
    expected: str
    golden: EvalCase | None = None
    redteam: Case | None = None


def evaluation_start(
    *, workspace: Workspace, suite: str, draft: bool, actor: AbstractBaseUser | None = None
) -> EvalRun:
    """A run of `suite` under the draft (or, without one, what is in force) or the version
    in force."""
    policy = (draft and policy_draft(workspace_id=workspace.pk)) or policy_in_force(
        workspace_id=workspace.pk
    )
    return EvalRun.objects.create(
        workspace=workspace,
        suite=suite,
        policy=policy if policy.pk else None,
        started_by=actor,
        case_count=len(_items(workspace=workspace, suite=suite)),
    )


async def evaluation_run(*, run: EvalRun, on_case: Callable[[], None] = lambda: None) -> EvalRun:
    items = await in_thread(_items)(workspace=run.workspace, suite=run.suite)
    try:
        for item in items:
            await _item_run(run=run, item=item)
            on_case()
    except Exception:
        await in_thread(EvalRun.objects.filter(pk=run.pk).update)(
            status=EvalRun.Status.FAILED, finished_at=timezone.now()
        )
        raise
    return await in_thread(_finish)(run=run)


def _items(*, workspace: Workspace, suite: str) -> list[Item]:
    items = []
    if suite in (EvalRun.Suite.GOLDEN, EvalRun.Suite.ALL):
        items += [
            Item(f"case-{case.pk}", "golden", "", case.question, case.expected, golden=case)
            for case in EvalCase.objects.filter(workspace=workspace)
        ]
    if suite in (EvalRun.Suite.REDTEAM, EvalRun.Suite.ALL):
        items += [
            Item(case.id, "redteam", case.category, case.text, case.expected, redteam=case)
            for case in gate_cases()
        ]
    return items


async def _item_run(*, run: EvalRun, item: Item) -> None:
    started = time.perf_counter()
    answer = await sandbox_reply(
        workspace_id=run.workspace_id,
        text=item.question,
        label=f"evaluation-{run.pk}",
        pinned_policy=run.policy,
    )
    latency_ms = round((time.perf_counter() - started) * 1000)
    await in_thread(_result_store)(run=run, item=item, answer=answer, latency_ms=latency_ms)


def _result_store(*, run: EvalRun, item: Item, answer: Message, latency_ms: int) -> EvalResult:
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
    return EvalResult.objects.create(
        run=run,
        case_key=item.key,
        suite=item.suite,
        category=item.category,
        question=item.question,
        expected=item.expected,
        behaviour=behaviour,
        expected_documents=list(item.golden.expected_documents) if item.golden else [],
        retrieved_documents=_retrieved_documents(answer),
        cited_documents=cited,
        facts_ok=facts_ok,
        passed=passed,
        reason=reason,
        latency_ms=latency_ms,
        answer=answer,
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
        )
        for r in run.results.all()
    ]
    with transaction.atomic():
        run.metrics = evaluation_metrics(rows)
        run.status = EvalRun.Status.FINISHED
        run.finished_at = timezone.now()
        run.save(update_fields=["metrics", "status", "finished_at"])
    return run
