from django.core.management.base import BaseCommand

from assistant.conversations.services import feedback_comments_redact


class Command(BaseCommand):
    help = (
        "Redact the feedback comments stored before Keel redacted them (their personal data "
        "goes to the vault, as a question's does). Safe to run again."
    )

    def handle(self, *args, **options):
        count = feedback_comments_redact()
        self.stdout.write(f"Redacted {count} feedback comments that held personal data.")
