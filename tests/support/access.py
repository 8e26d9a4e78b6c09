"""Who may reach a workspace's admin pages, checked the same way on every page."""

from django.urls import reverse

from assistant.models import Membership
from tests.support.factories import MembershipFactory, UserFactory


def assert_admins_only(client, workspace, requests: list[tuple[str, str]]) -> None:
    """Each (method, address): strangers are sent to log in, members of other workspaces
    find nothing (404), and the workspace's agents are refused (403)."""
    for method, address in requests:
        assert getattr(client, method)(address).url.startswith(reverse("login")), address
    client.force_login(UserFactory())
    for method, address in requests:
        assert getattr(client, method)(address).status_code == 404, address
    client.force_login(MembershipFactory(workspace=workspace, role=Membership.Role.AGENT).user)
    for method, address in requests:
        assert getattr(client, method)(address).status_code == 403, address
