"""Reads for evaluation: a workspace's test cases and runs, and one run's report beside
the run before it, the cases that got worse first. The page, the JSON export and the
`evaluate` command show the same report."""

from dataclasses import asdict, dataclass

from django.db.models import QuerySet

from assistant.evaluation.scoring import MetricChange, metrics_compare, regressions
from assistant.models import EvalCase, EvalResult, EvalRun

RESULT_FIELDS = [
    "case_key", "suite", "category", "question", "expected", "behaviour",
    "expected_documents", "retrieved_documents", "cited_documents", "facts_ok",
    "passed", "reason", "latency_ms", "faithfulness", "answer_id",
]  # fmt: skip


@dataclass(frozen=True)
class ReportedResult:
    result: EvalResult
    change: str  # against the previous run: "regression", "fixed", or ""


@dataclass(frozen=True)
class Report:
    run: EvalRun
    previous: EvalRun | None
    metrics: list[MetricChange]
    results: list[ReportedResult]  # failures (regressions first), then passes (fixed first)

    @property
    def regression_count(self) -> int:
        return sum(r.change == "regression" for r in self.results)


def eval_cases(*, workspace_id: int) -> QuerySet[EvalCase]:
    return EvalCase.objects.filter(workspace_id=workspace_id)


def eval_case_of(*, workspace_id: int, case_id: int) -> EvalCase | None:
    return eval_cases(workspace_id=workspace_id).filter(pk=case_id).first()


def evaluation_runs(*, workspace_id: int) -> QuerySet[EvalRun]:
    return (
        EvalRun.objects.filter(workspace_id=workspace_id)
        .select_related("policy", "started_by")
        .order_by("-pk")
    )


def evaluation_run_of(*, workspace_id: int, run_id: int) -> EvalRun | None:
    return evaluation_runs(workspace_id=workspace_id).filter(pk=run_id).first()


def evaluation_run_previous(*, run: EvalRun) -> EvalRun | None:
    """The last finished run of the same suite before this one."""
    return (
        evaluation_runs(workspace_id=run.workspace_id)
        .filter(suite=run.suite, status=EvalRun.Status.FINISHED, pk__lt=run.pk)
        .first()
    )


def evaluation_report(*, run: EvalRun) -> Report:
    previous = evaluation_run_previous(run=run)
    results = list(run.results.select_related("answer"))
    before = dict(previous.results.values_list("case_key", "passed")) if previous else {}
    worse = regressions(current={r.case_key: r.passed for r in results}, previous=before)

    def change(result: EvalResult) -> str:
        if result.case_key in worse:
            return "regression"
        if result.passed and before.get(result.case_key) is False:
            return "fixed"
        return ""

    reported = [ReportedResult(result=r, change=change(r)) for r in results]
    order = {"regression": 0, "fixed": 1, "": 2}
    reported.sort(key=lambda r: (r.result.passed, order[r.change], r.result.case_key))
    return Report(
        run=run,
        previous=previous,
        metrics=metrics_compare(current=run.metrics, previous=previous and previous.metrics),
        results=reported,
    )


def report_json(report: Report) -> dict:
    run = report.run
    return {
        "run": run.pk,
        "workspace": run.workspace.slug,
        "suite": run.suite,
        "status": run.status,
        "policy_version": run.policy.number if run.policy else None,
        "started": run.created_at.isoformat(),
        "finished": run.finished_at.isoformat() if run.finished_at else None,
        "judge_model": run.judge_model or None,
        "previous_run": report.previous.pk if report.previous else None,
        "metrics": run.metrics,
        "compared": [asdict(change) for change in report.metrics],
        "results": [
            {**{field: getattr(r.result, field) for field in RESULT_FIELDS}, "change": r.change}
            for r in report.results
        ],
    }
