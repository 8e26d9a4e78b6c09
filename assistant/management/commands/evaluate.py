import asyncio
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from assistant.evaluation_runs import evaluation_run, evaluation_start
from assistant.models import EvalRun, Workspace


class Command(BaseCommand):
    help = "Run a workspace's test cases through the real pipeline and print the metrics."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="the workspace's slug")
        parser.add_argument("--suite", choices=EvalRun.Suite.values, default=EvalRun.Suite.ALL)
        parser.add_argument(
            "--policy",
            choices=["live", "draft"],
            default="live",
            help="the version in force (live) or the draft being edited",
        )
        parser.add_argument(
            "--json", dest="json_path", type=Path, help="also write the results to this file"
        )

    def handle(
        self, *args, workspace: str, suite: str, policy: str, json_path: Path | None, **options
    ):
        found = Workspace.objects.filter(slug=workspace).first()
        if found is None:
            raise CommandError(f"No workspace with the slug “{workspace}”.")
        run = evaluation_start(workspace=found, suite=suite, draft=policy == "draft")
        if not run.case_count:
            raise CommandError("This suite has no test cases in the workspace.")
        with tqdm(total=run.case_count, desc=f"Evaluating {suite}", unit="case") as progress:
            run = asyncio.run(evaluation_run(run=run, on_case=progress.update))
        width = max(map(len, run.metrics))
        for name, value in run.metrics.items():
            self.stdout.write(f"{name.ljust(width)}  {'n/a' if value is None else value}")
        failures = run.results.filter(passed=False)
        for result in failures[:20]:
            self.stdout.write(f"FAIL {result.case_key}: {result.reason} | {result.question[:80]}")
        if json_path:
            json_path.write_text(_export(run))
            self.stdout.write(f"Results written to {json_path}")


def _export(run: EvalRun) -> str:
    results = list(
        run.results.values(
            "case_key", "suite", "category", "question", "expected", "behaviour",
            "expected_documents", "retrieved_documents", "cited_documents", "facts_ok",
            "passed", "reason", "latency_ms",
        )
    )  # fmt: skip
    return json.dumps(
        {"run": run.pk, "suite": run.suite, "metrics": run.metrics, "results": results},
        indent=2,
        ensure_ascii=False,
    )
