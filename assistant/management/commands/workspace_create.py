from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from assistant.people.forms import WorkspaceForm
from assistant.people.workspaces import workspace_create
from assistant.widget.snippet import widget_snippet


class Command(BaseCommand):
    help = (
        "Start a company's workspace (a knowledge base, the default policy, the chat widget) "
        "and invite its first admin by e-mail; prints the invitation link and the widget tag."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help='The company\'s name, e.g. "Acme"')
        parser.add_argument("--admin-email", required=True, help="Its first admin's e-mail")

    def handle(self, *args, name: str, admin_email: str, **options):
        form = WorkspaceForm({"name": name, "admin_email": admin_email})
        if not form.is_valid():
            raise CommandError(
                " ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())
            )
        started = workspace_create(
            name=form.cleaned_data["name"], admin_email=form.cleaned_data["admin_email"]
        )
        invitation = started.invitation
        self.stdout.write(
            f"Workspace '{started.workspace.name}' created ({started.workspace.slug}).\n"
            + (
                f"Invitation e-mailed to {invitation.invitation.email}.\n"
                if invitation.emailed
                else f"The invitation e-mail to {invitation.invitation.email} could not be "
                "sent: send them the link yourself.\n"
            )
            + f"Invitation link (works for {settings.KEEL_INVITATION_DAYS} days):\n"
            f"  {invitation.link}\n"
            "The chat widget's tag, for the company's pages:\n"
            f"  {widget_snippet(workspace=started.workspace, keel_url=settings.KEEL_PUBLIC_URL)}\n"
        )
