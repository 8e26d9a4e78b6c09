from django.core.management.base import BaseCommand

from knowledge.uploads import outdated_documents_reindex


class Command(BaseCommand):
    help = (
        "Queue the documents an older version of Keel indexed for indexing again, so they "
        "get what the current one stores; the workers do the work. Run it after migrate."
    )

    def handle(self, *args, **options):
        queued = outdated_documents_reindex()
        self.stdout.write(f"Queued {queued} document(s) indexed by an older version.")
