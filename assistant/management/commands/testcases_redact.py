from django.core.management.base import BaseCommand

from assistant.evaluation.cases import cases_stored_redact


class Command(BaseCommand):
    help = (
        "Redact the test cases and evaluation results stored before Keel redacted them "
        "(each workspace's policy says which personal data). Safe to run again."
    )

    def handle(self, *args, **options):
        count = cases_stored_redact()
        self.stdout.write(f"Redacted {count} test cases and results that held personal data.")
