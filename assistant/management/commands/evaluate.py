import asyncio
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from assistant.evaluation.judge import judge_backend
from assistant.evaluation.runs import evaluation_run
from assistant.evaluation.selectors import evaluation_report, report_json
from assistant.evaluation.services import evaluation_start
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
            "--judge",
            action="store_true",
            help="also score faithfulness with the configured LLM (LLM-as-judge)",
        )
        parser.add_argument(
            "--json", dest="json_path", type=Path, help="also write the results to this file"
        )

    def handle(
        self,
        *args,
        workspace: str,
        suite: str,
        policy: str,
        judge: bool,
        json_path: Path | None,
        **options,
    ):
        found = Workspace.objects.filter(slug=workspace).first()
        if found is None:
            raise CommandError(f"No workspace with the slug “{workspace}”.")
        if judge and judge_backend() is None:
            raise CommandError("--judge needs an LLM: set LLM_BASE_URL, LLM_API_KEY, LLM_MODEL.")
        run = evaluation_start(workspace=found, suite=suite, draft=policy == "draft", judged=judge)
        if not run.case_count:
            raise CommandError("This suite has no test cases in the workspace.")
        with tqdm(total=run.case_count, desc=f"Evaluating {suite}", unit="case") as progress:
            run = asyncio.run(evaluation_run(run=run, on_case=progress.update))
        report = evaluation_report(run=run)
        width = max(len(change.label) for change in report.metrics)
        for change in report.metrics:
            value = "n/a" if change.current is None else change.current
            before = "" if change.previous is None else f"  (was {change.previous})"
            self.stdout.write(
                f"{change.label.ljust(width)}  {value}{before}  {change.direction}".rstrip()
            )
        failures = [r for r in report.results if not r.result.passed]
        for reported in failures[:20]:
            result = reported.result
            self.stdout.write(
                f"{'REGRESSION' if reported.change else 'FAIL'} {result.case_key}: "
                f"{result.reason} | {result.question[:80]}"
            )
        if json_path:
            json_path.write_text(json.dumps(report_json(report), indent=2, ensure_ascii=False))
            self.stdout.write(f"Results written to {json_path}")
