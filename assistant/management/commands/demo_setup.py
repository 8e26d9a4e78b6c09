from django.conf import settings
from django.core.management.base import BaseCommand

from assistant.demo import demo_workspace_ensure


class Command(BaseCommand):
    help = "Create the demo workspace (Trailhead Cycles) with its admin login, once."

    def handle(self, *args, **options):
        login = demo_workspace_ensure(password_file=settings.KEEL_HOME / "demo-admin-password")
        self.stdout.write(
            f"Demo workspace 'demo' · admin login: {login.username} / {login.password}"
        )
