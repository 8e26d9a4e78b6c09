"""People: starting a workspace (command and first-run page), invitations, members and
roles, password reset, workspace switching and the setup checklist, through the pages."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail, signing
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assistant.models import (
    AuditEvent,
    Conversation,
    Invitation,
    Membership,
    PolicyCheck,
    PolicyVersion,
    Workspace,
)
from assistant.people.invitations import TOKEN_SALT
from knowledge.models import Document, KnowledgeBase
from tests.conftest import free_port
from tests.support.factories import (
    DocumentFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
)
from tests.support.people import link_path

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # tests.support.factories.UserFactory's
NEW_PASSWORD = "lantern orchard 4417"


def people_url(workspace, name="people", *args) -> str:
    return reverse(name, args=[workspace.slug, *args])


def invite(client, workspace, email: str, role: str = Membership.Role.AGENT):
    return client.post(people_url(workspace, "invitation_create"), {"email": email, "role": role})


def audit_actions(workspace, kind) -> list[str]:
    events = AuditEvent.objects.filter(workspace=workspace, kind=kind).order_by("pk")
    return [event.detail["action"] for event in events]


@pytest.fixture
def bank(db):
    """A bank's workspace and its only admin, signed in."""
    return MembershipFactory(
        workspace=WorkspaceFactory(name="Harbour Bank"),
        role=Membership.Role.ADMIN,
        user__email="ines@harbour-bank.example",
    )


@pytest.fixture
def bank_client(client, bank):
    client.force_login(bank.user)
    return client


@pytest.fixture
def stranger():
    """A second browser: nobody signed in."""
    return Client()


def test_the_command_starts_a_workspace_and_invites_its_first_admin():
    out = StringIO()
    call_command(
        "workspace_create", "Skyway Airlines", "--admin-email", "Ops@Skyway.example", stdout=out
    )

    workspace = Workspace.objects.get(name="Skyway Airlines")
    assert workspace.slug == "skyway-airlines"
    assert KnowledgeBase.objects.filter(workspace=workspace).count() == 1
    policy = PolicyVersion.objects.get(workspace=workspace)
    assert policy.number == 1 and policy.author is None
    invitation = Invitation.objects.get(workspace=workspace)
    assert (invitation.email, invitation.role) == ("ops@skyway.example", "admin")
    [sent] = mail.outbox
    assert sent.to == ["ops@skyway.example"] and "Skyway Airlines" in sent.subject
    assert "You are invited to Skyway Airlines on Keel, as admin." in sent.body
    printed = out.getvalue()
    assert link_path(sent.body) == link_path(printed)
    assert f'data-workspace="{workspace.public_key}"' in printed
    assert audit_actions(workspace, AuditEvent.Kind.INVITATION) == ["sent"]
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.WORKSPACE_CREATED).count() == 1

    # The same name again: a workspace of its own, with a slug of its own.
    call_command(
        "workspace_create",
        "Skyway Airlines",
        "--admin-email",
        "b@skyway.example",
        stdout=StringIO(),
    )
    assert Workspace.objects.filter(slug="skyway-airlines-2").exists()
    with pytest.raises(CommandError, match="admin_email"):
        call_command("workspace_create", "Skyway", "--admin-email", "not-an-address")
    with pytest.raises(CommandError, match="name"):
        call_command("workspace_create", "  ---  ", "--admin-email", "a@skyway.example")
    assert Workspace.objects.count() == 2


def test_only_a_superuser_starts_a_workspace_on_the_first_run_page(client, bank):
    start = reverse("start")
    assert client.get(start).url.startswith(reverse("login"))
    client.force_login(bank.user)
    assert client.get(start).status_code == 403
    assert client.post(start, {"name": "Sneaky", "admin_email": "x@y.example"}).status_code == 403

    operator = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(operator)
    assert client.get(reverse("home")).url == start  # no workspace of their own yet
    bad = client.post(start, {"name": "Gridline Power", "admin_email": "kim at gridline"})
    assert "Enter a valid email address" in bad.content.decode()
    assert not Workspace.objects.filter(name="Gridline Power").exists() and not mail.outbox
    page = client.post(start, {"name": "Gridline Power", "admin_email": "kim@gridline.example"})
    html = page.content.decode()
    workspace = Workspace.objects.get(name="Gridline Power")
    assert "The invitation of its first admin was e-mailed to kim@gridline.example" in html
    assert link_path(mail.outbox[0].body) in html
    # The widget tag is shown as text to copy, never run in Keel's page.
    assert "&lt;script src=&quot;http://testserver/static/keel/widget.js&quot; " in html
    assert workspace.public_key in html
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.WORKSPACE_CREATED).actor == operator


def test_an_invited_agent_sets_a_password_and_lands_in_the_console(bank_client, bank, stranger):
    workspace = bank.workspace
    page = invite(bank_client, workspace, " Noor@Harbour-Bank.example ")
    assert "Invitation e-mailed to noor@harbour-bank.example" in page.content.decode()
    [sent] = mail.outbox
    assert f"{bank.user.username} invites you to Harbour Bank on Keel, as agent." in sent.body
    accept = link_path(sent.body)

    form = stranger.get(accept).content.decode()
    assert "Join Harbour Bank on Keel" in form and "invited as agent" in form
    weak = stranger.post(accept, {"name": "Noor", "password1": "password", "password2": "password"})
    assert "too common" in weak.content.decode()
    differ = stranger.post(accept, {"name": "Noor", "password1": NEW_PASSWORD, "password2": "x"})
    assert "The two passwords differ" in differ.content.decode()
    assert not get_user_model().objects.filter(email="noor@harbour-bank.example").exists()

    joined = stranger.post(
        accept, {"name": "Noor Haddad", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert joined.url == reverse("console", args=[workspace.slug])
    noor = get_user_model().objects.get(username="noor@harbour-bank.example")
    assert noor.first_name == "Noor Haddad" and noor.check_password(NEW_PASSWORD)
    assert Membership.objects.get(user=noor).role == Membership.Role.AGENT
    assert stranger.session["_auth_user_id"] == str(noor.pk)
    assert audit_actions(workspace, AuditEvent.Kind.INVITATION) == ["sent"]
    assert audit_actions(workspace, AuditEvent.Kind.MEMBER) == ["joined"]

    # The link works once: a second use creates nothing.
    stranger.logout()
    again = stranger.post(
        accept, {"name": "X", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert again.status_code == 400 and "already used" in again.content.decode()
    assert Membership.objects.filter(workspace=workspace).count() == 2

    # In the members page: name, e-mail, role.
    members = bank_client.get(people_url(workspace)).content.decode()
    assert "Noor Haddad" in members and "noor@harbour-bank.example" in members
    assert "No open invitations." in members
    trail = " ".join(bank_client.get(people_url(workspace, "audit_log")).content.decode().split())
    assert "Invitation of noor@harbour-bank.example as agent: sent." in trail
    assert "noor@harbour-bank.example joined as agent." in trail


def test_someone_signed_in_with_the_invited_address_just_joins(bank_client, bank, stranger):
    other = WorkspaceFactory(name="Spokes Bike Shop")
    owner = MembershipFactory(workspace=other, role=Membership.Role.ADMIN)
    stranger.force_login(owner.user)
    invite(stranger, other, bank.user.email, Membership.Role.ADMIN)
    accept = link_path(mail.outbox[0].body)

    signed_out = Client().get(accept).content.decode()
    assert "You already have a Keel login with this address" in signed_out
    assert f'href="{reverse("login")}?next={accept.replace(":", "%3A")}"' in signed_out
    page = bank_client.get(accept).content.decode()
    assert "Join Spokes Bike Shop" in page and "Your name" not in page
    assert bank_client.post(accept).url == reverse("setup", args=[other.slug])
    assert Membership.objects.get(user=bank.user, workspace=other).role == Membership.Role.ADMIN


def test_expired_tampered_and_revoked_links_open_nothing(bank_client, bank, stranger):
    workspace = bank.workspace
    invite(bank_client, workspace, "late@harbour-bank.example")
    invitation = Invitation.objects.get(email="late@harbour-bank.example")
    accept = link_path(mail.outbox[0].body)
    token = accept.split("/")[-2]
    fields = {"name": "Late", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}

    class SentEightDaysAgo(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int((timezone.now() - timedelta(days=8)).timestamp()))

    old = SentEightDaysAgo(salt=TOKEN_SALT).sign_object(invitation.pk)
    expired = stranger.post(reverse("invitation_accept", args=[old]), fields)
    assert expired.status_code == 400 and "has expired" in expired.content.decode()
    tampered = token.replace(token[-3], "A" if token[-3] != "A" else "B")
    for bad in (tampered, token + "x", "1", "nothing-here"):
        response = stranger.get(reverse("invitation_accept", args=[bad]))
        assert response.status_code == 400 and "not valid" in response.content.decode()

    # Shown as expired on the members page once its days are over; resending renews it.
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now() - timedelta(days=8))
    assert "expired: resend it" in bank_client.get(people_url(workspace)).content.decode()
    resent = bank_client.post(people_url(workspace, "invitation_resend", invitation.pk))
    assert "Invitation e-mailed to late@harbour-bank.example" in resent.content.decode()
    assert len(mail.outbox) == 2 and "expired: resend it" not in resent.content.decode()

    revoked = bank_client.post(people_url(workspace, "invitation_revoke", invitation.pk))
    assert "is withdrawn" in revoked.content.decode()
    for path in (accept, link_path(mail.outbox[1].body)):
        response = stranger.post(path, fields)
        assert response.status_code == 400 and "withdrawn" in response.content.decode()
    assert not get_user_model().objects.filter(username="late@harbour-bank.example").exists()
    assert audit_actions(workspace, AuditEvent.Kind.INVITATION) == ["sent", "resent", "revoked"]


def test_a_member_or_a_pending_invitation_cannot_be_invited_twice(bank_client, bank):
    workspace = bank.workspace
    member = invite(bank_client, workspace, "INES@harbour-bank.example").content.decode()
    assert "ines@harbour-bank.example is already a member of Harbour Bank" in member
    invite(bank_client, workspace, "sam@harbour-bank.example")
    twice = invite(bank_client, workspace, "Sam@harbour-bank.example", Membership.Role.ADMIN)
    assert "sam@harbour-bank.example is already invited" in twice.content.decode()
    bad = invite(bank_client, workspace, "sam at the bank")
    assert "Enter a valid email address" in bad.content.decode()
    assert Invitation.objects.filter(workspace=workspace).count() == 1
    assert len(mail.outbox) == 1


def test_an_unsent_invitation_e_mail_leaves_the_link_with_the_admin(bank_client, bank, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    page = invite(bank_client, bank.workspace, "mo@harbour-bank.example").content.decode()
    assert "could not be sent" in page
    invitation = Invitation.objects.get(email="mo@harbour-bank.example")
    assert "/invitations/" in page and invitation.accepted_at is None


def test_roles_change_and_members_leave_but_a_workspace_keeps_an_admin(bank_client, bank):
    workspace = bank.workspace
    agent = MembershipFactory(
        workspace=workspace, role=Membership.Role.AGENT, user__email="tomas@harbour-bank.example"
    )

    alone = bank_client.post(people_url(workspace, "member_role", bank.pk), {"role": "agent"})
    assert "You cannot make the only admin an agent" in alone.content.decode()
    alone = bank_client.post(people_url(workspace, "member_remove", bank.pk))
    assert "You cannot remove the only admin" in alone.content.decode()
    bank.refresh_from_db()
    assert bank.role == Membership.Role.ADMIN

    promoted = bank_client.post(people_url(workspace, "member_role", agent.pk), {"role": "admin"})
    assert f"{agent.user.username} is now admin" in promoted.content.decode()
    # Two admins now: this one may step down, and then the page is not theirs any more.
    stepped_down = bank_client.post(
        people_url(workspace, "member_role", bank.pk), {"role": "agent"}
    )
    assert stepped_down.url == reverse("home")
    assert bank_client.get(people_url(workspace)).status_code == 403

    bank_client.force_login(agent.user)
    removed = bank_client.post(people_url(workspace, "member_remove", bank.pk))
    assert "is no longer a member" in removed.content.decode()
    assert not Membership.objects.filter(pk=bank.pk).exists()
    assert get_user_model().objects.filter(pk=bank.user.pk).exists()  # the login stays
    events = AuditEvent.objects.filter(workspace=workspace, kind=AuditEvent.Kind.MEMBER)
    assert [(e.detail["action"], e.actor) for e in events.order_by("pk")] == [
        ("role_changed", bank.user),
        ("role_changed", bank.user),
        ("removed", agent.user),
    ]
    assert events.order_by("pk").first().detail == {
        "action": "role_changed",
        "user": agent.user.pk,
        "email": "tomas@harbour-bank.example",
        "from": "agent",
        "to": "admin",
    }
    trail = " ".join(bank_client.get(people_url(workspace, "audit_log")).content.decode().split())
    assert "tomas@harbour-bank.example went from agent to admin." in trail
    assert "ines@harbour-bank.example went from admin to agent." in trail
    assert "ines@harbour-bank.example (agent) was removed from the workspace." in trail


def test_an_admin_manages_only_their_own_workspaces_people(bank_client, bank, stranger):
    utility = WorkspaceFactory(name="Gridline Power")
    utility_admin = MembershipFactory(workspace=utility, role=Membership.Role.ADMIN)
    stranger.force_login(utility_admin.user)
    invite(stranger, utility, "lee@gridline.example")
    theirs = Invitation.objects.get(workspace=utility)
    accept = link_path(mail.outbox[0].body)

    assert bank_client.get(people_url(utility)).status_code == 404
    assert invite(bank_client, utility, "spy@harbour-bank.example").status_code == 404
    # Their invitation and member, reached through the bank's own pages: not found.
    mine = bank.workspace
    for url, data in (
        (people_url(mine, "invitation_revoke", theirs.pk), {}),
        (people_url(mine, "invitation_resend", theirs.pk), {}),
        (people_url(mine, "member_role", utility_admin.pk), {"role": "agent"}),
        (people_url(mine, "member_remove", utility_admin.pk), {}),
    ):
        assert bank_client.post(url, data).status_code == 404
    # Their invitation's link, opened by the bank's admin: for another address, refused.
    assert "sent to another e-mail address" in bank_client.get(accept).content.decode()
    refused = bank_client.post(accept)
    assert refused.status_code == 400 and "another e-mail address" in refused.content.decode()
    assert not Membership.objects.filter(user=bank.user, workspace=utility).exists()
    theirs.refresh_from_db()
    assert theirs.revoked_at is None and theirs.accepted_at is None
    utility_admin.refresh_from_db()
    assert utility_admin.role == Membership.Role.ADMIN
    # Agents see no people page.
    agent = MembershipFactory(workspace=mine, role=Membership.Role.AGENT)
    bank_client.force_login(agent.user)
    assert bank_client.get(people_url(mine)).status_code == 403
    assert invite(bank_client, mine, "x@harbour-bank.example").status_code == 403


def test_a_forgotten_password_is_reset_by_e_mail(client, bank):
    login_page = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}"' in login_page
    asked = client.post(reverse("password_reset"), {"email": "INES@harbour-bank.example"})
    assert asked.url == reverse("password_reset_done")
    client.post(reverse("password_reset"), {"email": "nobody@harbour-bank.example"})
    [sent] = mail.outbox  # nothing to an address without a login, and nothing said about it
    assert sent.to == ["ines@harbour-bank.example"]

    form = client.get(link_path(sent.body), follow=True)
    assert "Choose a new password" in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.url == reverse("password_reset_complete")
    [reset] = AuditEvent.objects.filter(workspace=bank.workspace, kind=AuditEvent.Kind.MEMBER)
    assert reset.actor == bank.user and reset.detail["action"] == "password_reset"
    assert client.post(
        reverse("login"), {"username": bank.user.username, "password": NEW_PASSWORD}
    ).url == reverse("home")
    client.logout()
    used = client.get(link_path(sent.body), follow=True).content.decode()
    assert "This link is not valid" in used


def test_a_person_switches_between_their_workspaces(client, bank):
    shop = MembershipFactory(
        workspace=WorkspaceFactory(name="Spokes Bike Shop"),
        user=bank.user,
        role=Membership.Role.AGENT,
    )
    WorkspaceFactory(name="Skyway Airlines")
    client.force_login(bank.user)

    page = client.get(reverse("console", args=[bank.workspace.slug])).content.decode()
    assert "Switch workspace" in page
    assert reverse("workspace_switch", args=[shop.workspace.slug]) in page
    assert "Skyway Airlines" not in page
    switched = client.get(reverse("workspace_switch", args=[shop.workspace.slug]))
    assert switched.url == reverse("console", args=[shop.workspace.slug])
    assert client.get(reverse("home")).url == reverse("console", args=[shop.workspace.slug])
    client.get(reverse("workspace_switch", args=[bank.workspace.slug]))
    assert client.get(reverse("home")).url == reverse("setup", args=[bank.workspace.slug])
    # Someone in one workspace has nothing to switch to.
    client.force_login(MembershipFactory(workspace=shop.workspace).user)
    page = client.get(reverse("console", args=[shop.workspace.slug])).content.decode()
    assert "Switch workspace" not in page


def test_the_setup_checklist_follows_what_the_admin_has_done(bank_client, bank):
    workspace = bank.workspace
    knowledge_base = KnowledgeBase.objects.create(workspace=workspace, name="Accounts", slug="a")
    PolicyVersion.objects.create(workspace=workspace, number=1)

    def done() -> list[bool]:
        html = bank_client.get(reverse("setup", args=[workspace.slug])).content.decode()
        return [step.startswith("yes") for step in html.split('data-done="')[1:]]

    assert done() == [False, False, False, False]
    assert bank_client.get(reverse("home")).url == reverse("setup", args=[workspace.slug])
    DocumentFactory(knowledge_base=knowledge_base, status=Document.Status.QUEUED)
    assert done() == [False, False, False, False]  # not searchable yet
    DocumentFactory(knowledge_base=knowledge_base)
    draft = PolicyVersion.objects.create(workspace=workspace, number=None)
    PolicyCheck.objects.create(policy=draft, fingerprint="f", case_count=0)
    Conversation.objects.create(workspace=workspace, visitor_key="check-1", sandbox=True)
    assert done() == [True, True, False, False]  # a check's sandbox is not the admin's
    Conversation.objects.create(
        workspace=workspace, visitor_key=f"staff-{bank.user.pk}", sandbox=True
    )
    workspace.allowed_origins = ["https://www.harbour-bank.example"]
    workspace.save()
    assert done() == [True, True, True, True]
    assert bank_client.get(reverse("home")).url == reverse("console", args=[workspace.slug])
