"""The vault's keys change: a new key seals, the old ones still open, and an entry no
current key opens tells the agent so instead of failing the page."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse

from assistant.conversations.vault import vault_open, vault_seal
from assistant.models import AuditEvent, Membership
from tests.support.factories import HandoffFactory, MembershipFactory, VaultEntryFactory

OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()
CARD = "4111 1111 1111 1111"
CANNOT_OPEN = "Cannot be opened with the current keys"


@pytest.fixture
def sealed_with_old_key(db, settings):
    """A card a customer wrote, sealed under the old key, in a conversation an agent took."""
    settings.KEEL_VAULT_KEY = OLD_KEY
    question = VaultEntryFactory(value=CARD).message
    agent = MembershipFactory(workspace=question.conversation.workspace, role=Membership.Role.AGENT)
    HandoffFactory(conversation=question.conversation, claimed_by=agent.user)
    return question.conversation, agent.user


def vault_page(client, conversation, agent) -> str:
    client.force_login(agent)
    response = client.post(
        reverse("console_vault", args=[conversation.workspace.slug, conversation.pk])
    )
    assert response.status_code == 200
    return response.content.decode()


def test_old_entries_open_while_the_old_key_follows_the_new_one(
    sealed_with_old_key, settings, client
):
    conversation, agent = sealed_with_old_key
    settings.KEEL_VAULT_KEY = f"{NEW_KEY}, {OLD_KEY}"

    assert CARD in vault_page(client, conversation, agent)
    # The first key seals what is written from now on: the new key alone opens it.
    sealed_now = vault_seal("jane@example.com")
    settings.KEEL_VAULT_KEY = NEW_KEY
    assert vault_open(sealed_now) == "jane@example.com"
    settings.KEEL_VAULT_KEY = OLD_KEY
    assert vault_open(sealed_now) is None


def test_an_entry_no_current_key_opens_is_reported_and_audited_not_a_server_error(
    sealed_with_old_key, settings, client
):
    conversation, agent = sealed_with_old_key
    settings.KEEL_VAULT_KEY = NEW_KEY

    page = vault_page(client, conversation, agent)

    assert "[CARD_1]" in page and CANNOT_OPEN in page and "4111" not in page
    read = AuditEvent.objects.get(kind=AuditEvent.Kind.VAULT_READ)
    assert read.actor == agent
    assert read.detail == {"placeholders": ["[CARD_1]"], "unopened": ["[CARD_1]"]}


def test_vault_reseal_seals_old_entries_with_the_new_key(sealed_with_old_key, settings, client):
    conversation, agent = sealed_with_old_key
    settings.KEEL_VAULT_KEY = f"{NEW_KEY},{OLD_KEY}"

    call_command("vault_reseal")

    settings.KEEL_VAULT_KEY = NEW_KEY  # the old key is gone
    page = vault_page(client, conversation, agent)
    assert CARD in page and CANNOT_OPEN not in page


def test_a_key_that_is_not_a_fernet_key_stops_the_checks_with_its_place(settings):
    settings.KEEL_VAULT_KEY = f"{NEW_KEY},not-a-key"

    with pytest.raises(SystemCheckError, match="KEEL_VAULT_KEY: key 2 is not a Fernet key"):
        call_command("check")
