"""Who is online in the console: one row per open console socket, and the queue (with
its list of who is online) pushed to every console when that changes."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from assistant.conversations import events
from assistant.models import AgentPresence, Workspace


def presence_start(*, user: AbstractBaseUser, workspace: Workspace, channel_name: str) -> None:
    with transaction.atomic():
        AgentPresence.objects.update_or_create(
            channel_name=channel_name, defaults={"user": user, "workspace": workspace}
        )
        events.queue_changed_after_commit(workspace_id=workspace.pk)


def presence_end(*, workspace: Workspace, channel_name: str) -> None:
    with transaction.atomic():
        AgentPresence.objects.filter(channel_name=channel_name).delete()
        events.queue_changed_after_commit(workspace_id=workspace.pk)
