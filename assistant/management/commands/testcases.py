import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assistant.evaluation.cases import cases_export, cases_import
from assistant.models import Workspace


class Command(BaseCommand):
    help = "Export a workspace's test cases as JSON lines, or import them from a file."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["export", "import"])
        parser.add_argument("--workspace", required=True, help="the workspace's slug")
        parser.add_argument("--file", type=Path, help="import from (or export to) this file")

    def handle(self, *args, action: str, workspace: str, file: Path | None, **options):
        found = Workspace.objects.filter(slug=workspace).first()
        if found is None:
            raise CommandError(f"No workspace with the slug “{workspace}”.")
        if action == "export":
            text = cases_export(workspace=found)
            if file:
                file.write_text(text)
            else:
                self.stdout.write(text, ending="")
            return
        imported = cases_import(
            workspace=found, text=file.read_text() if file else sys.stdin.read(), actor=None
        )
        if imported.problems:
            raise CommandError("Nothing imported:\n" + "\n".join(imported.problems))
        self.stdout.write(f"Imported {imported.created} test cases.")
