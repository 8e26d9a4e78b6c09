from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from knowledge.ingest import Action, documents_remove_missing, files_ingest, folder_scan
from knowledge.own_questions import own_questions_prepare
from knowledge.selectors import knowledge_bases_in_workspace


class Command(BaseCommand):
    help = "Ingest a file or a folder into a knowledge base (unchanged files are skipped)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--workspace", required=True, help="workspace slug")
        parser.add_argument("--kb", required=True, help="knowledge base slug")
        parser.add_argument(
            "--sync", action="store_true", help="remove documents whose files are gone"
        )

    def handle(self, *args, path: Path, workspace: str, kb: str, sync: bool, **options):
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        knowledge_bases = knowledge_bases_in_workspace(workspace_slug=workspace)
        knowledge_base = knowledge_bases.filter(slug=kb).first()
        if knowledge_base is None:
            available = ", ".join(knowledge_bases.values_list("slug", flat=True))
            raise CommandError(
                f"No knowledge base {kb!r} in workspace {workspace!r}. "
                f"Available: {available or 'none (is the workspace slug right?)'}."
            )
        folder = folder_scan(path=path)
        outcomes = folder.skipped + list(
            tqdm(
                files_ingest(knowledge_base=knowledge_base, paths=folder.files),
                total=len(folder.files),
                desc="Ingesting",
                unit="file",
                disable=not folder.files,
            )
        )
        if sync and path.is_dir():
            outcomes += documents_remove_missing(
                knowledge_base=knowledge_base, folder=path, present=folder.files
            )
        # Here, as the worker does after indexing: no customer waits for them to be embedded.
        own_questions_prepare(workspace_id=knowledge_base.workspace_id)

        counts = Counter(outcome.action for outcome in outcomes)
        self.stdout.write(
            " · ".join(
                f"{action.value} {counts[action]}"
                for action in (
                    Action.ADDED,
                    Action.UPDATED,
                    Action.UNCHANGED,
                    Action.REMOVED,
                    Action.SKIPPED,
                    Action.FAILED,
                    Action.RENAMED,
                )
            )
        )
        for outcome in outcomes:
            if outcome.action in (Action.FAILED, Action.SKIPPED):
                self.stdout.write(f"{outcome.action.value}: {outcome.source}: {outcome.reason}")
            elif outcome.action == Action.RENAMED:
                self.stdout.write(f"renamed: {outcome.previous_source} → {outcome.source}")
