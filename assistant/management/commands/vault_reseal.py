from django.core.management.base import BaseCommand

from assistant.conversations.vault import vault_reseal


class Command(BaseCommand):
    help = (
        "Seal the vault's entries again with the first key of KEEL_VAULT_KEY, after a new key "
        "was put first; then the old keys can be removed."
    )

    def handle(self, *args, **options):
        resealed, unopened = vault_reseal()
        self.stdout.write(f"Sealed {resealed} vault entries again with the first key.")
        if unopened:
            self.stderr.write(
                f"{unopened} entries cannot be opened with the current keys and were left as "
                "they are: add the key that sealed them to KEEL_VAULT_KEY (after the first) "
                "and run this again, or let them expire."
            )
