"""Running an evaluation: each case through the real pipeline, in a sandbox conversation
pinned to the policy version under test, judged and stored; then the run's metrics.

The workspace's own cases form the golden suite; Keel's red-team suite is judged as the
publish gate judges it (`policy_checks.case_verdict`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import PurePath

from assistant.answering.llm import OpenAICompatibleBackend
from assistant.common.threads import in_thread
from assistant.conversations.selectors import policy_in_force
from assistant.evaluation.case_runs import CaseAsked, case_run_all
from assistant.evaluation.judge import faithfulness_judged, judge_backend
from assistant.evaluation.policy_checks import OVER_LIMIT, Case, case_verdict, gate_cases
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
    text: str
    expected: str
    golden: EvalCase | None = None
    redteam: Case | None = None

    @property
    def earlier_turns(self) -> list[str]:
        return self.golden.earlier_turns if self.golden else []


async def evaluation_run(*, run: EvalRun, on_case: Callable[[], None] = lambda: None) -> EvalRun:
    """Every case of the run's suite, judged and stored; a retried run goes on where it
    stopped."""
    policy = await in_thread(_pinned_policy)(run=run)
    await case_run_all(
        run=run,
        label=f"evaluation-{run.pk}",
        workspace_id=run.workspace_id,
        pinned_policy=policy,
        cases=partial(evaluation_items, workspace_id=run.workspace_id, suite=run.suite),
        result_key="case_key",
        case_store=partial(
            _item_store, run=run, judge=judge_backend() if run.judge_model else None
        ),
        run_finish=partial(_metrics_set, run=run),
        failure_text=RUN_FAILED,
        on_case=on_case,
    )
    return run


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
            Item(case.key, "redteam", case.category, case.text, case.expected, redteam=case)
            for case in gate_cases()
        ]
    return items


async def _item_store(
    *, run: EvalRun, case: Item, asked: CaseAsked, judge: OpenAICompatibleBackend | None
) -> None:
    if asked.answer is None:
        await in_thread(_over_limit_store)(run=run, item=case)  # as the publish gate judges it
        return
    faithfulness = None
    if judge is not None and asked.answer.outcome == Message.Outcome.ANSWERED:
        faithfulness = await faithfulness_judged(
            backend=judge,
            question=case.text,
            answer=asked.answer.text,
            sources=await in_thread(_sources_given)(answer=asked.answer),
        )
    await in_thread(_result_store)(
        run=run,
        item=case,
        answer=asked.answer,
        latency_ms=asked.latency_ms,
        faithfulness=faithfulness,
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
            text=item.text, kinds=frozenset(policy.personal_data_kinds)
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


def _metrics_set(*, run: EvalRun) -> None:
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
    run.metrics = evaluation_metrics(rows)
    run.save(update_fields=["metrics"])
