"""Writes for a workspace's own settings."""

from assistant.models import Workspace, identity_secret_new


def identity_secret_rotate(*, workspace: Workspace) -> Workspace:
    """A new signing secret: identities signed with the old one stop being trusted at once."""
    workspace.identity_secret = identity_secret_new()
    workspace.save(update_fields=["identity_secret"])
    return workspace
