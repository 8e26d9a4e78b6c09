from django.core.management.base import BaseCommand

from knowledge.search import chunk_search
from knowledge.selectors import knowledge_bases_in_workspace


class Command(BaseCommand):
    help = "Search a workspace's knowledge bases and print the top hits with their scores."

    def add_arguments(self, parser):
        parser.add_argument("query")
        parser.add_argument("--workspace", required=True, help="workspace slug")
        parser.add_argument("-k", type=int, default=5, help="number of hits")

    def handle(self, *args, query: str, workspace: str, k: int, **options):
        knowledge_bases = list(knowledge_bases_in_workspace(workspace_slug=workspace))
        if not knowledge_bases:
            self.stderr.write(f"Workspace {workspace!r} has no knowledge bases.")
            return
        hits = chunk_search(knowledge_bases=knowledge_bases, query=query, k=k)
        if not hits:
            self.stdout.write("No matching passages.")
        for number, hit in enumerate(hits, start=1):
            page = f" · page {hit.page}" if hit.page else ""
            similarity = f"{hit.similarity:.3f}" if hit.similarity is not None else "-"
            keyword = f"{hit.keyword_score:.3f}" if hit.keyword_score is not None else "-"
            self.stdout.write(
                f"{number}. [{hit.score:.4f}] {hit.document_title}{page}\n"
                f"   {hit.heading}\n"
                f"   cosine {similarity} · keyword {keyword}\n"
                f"   {hit.text[:200].replace(chr(10), ' ')}"
            )
