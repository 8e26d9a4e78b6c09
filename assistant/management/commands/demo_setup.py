from django.conf import settings
from django.core.management.base import BaseCommand

from assistant.widget.demo import demo_workspace_ensure


class Command(BaseCommand):
    help = "Create the demo workspace (Trailhead Cycles) with an admin and an agent login, once."

    def handle(self, *args, **options):
        logins = demo_workspace_ensure(home=settings.KEEL_HOME)
        self.stdout.write(
            "Demo workspace 'demo' · logins: "
            + ", ".join(f"{login.username} ({login.role.value})" for login in logins)
            + " (passwords printed when the server starts)"
        )
