"""Sealing personal data at rest (Fernet: AES-128-CBC with an HMAC, from `cryptography`).

The keys are `KEEL_VAULT_KEY`, one Fernet key or several separated by commas (a
`MultiFernet`): the first seals, every one opens, so a new key goes first and the old ones
stay after it until `manage.py vault_reseal` has sealed their entries again with the new
one. A key derived from SECRET_KEY always opens too (without `KEEL_VAULT_KEY` it is the
only key), so entries sealed before a key was set stay readable.
"""

import base64
from dataclasses import dataclass
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core import checks

from assistant.common.audit import workspace_audit
from assistant.conversations.selectors import conversation_vault, handoff_open
from assistant.models import AuditEvent, Conversation, Feedback, Message, VaultEntry
from assistant.rails.personal_data import Placeholders, placeholders_known

RESEAL_BATCH = 500


@dataclass(frozen=True)
class VaultValue:
    entry: VaultEntry
    value: str | None  # None: no current key opens it


def vault_seal(value: str) -> str:
    return _keys().encrypt(value.encode()).decode()


def vault_open(sealed: str) -> str | None:
    """The value, or None when none of the current keys sealed it (a key was removed)."""
    try:
        return _keys().decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None


def conversation_placeholders(*, conversation_id: int) -> Placeholders:
    """The placeholders the conversation's customer texts hold already, with the values
    behind them that the vault still has and opens."""
    texts = [
        *Message.objects.filter(
            conversation_id=conversation_id, role=Message.Role.CUSTOMER
        ).values_list("text", flat=True),
        *Feedback.objects.filter(message__conversation_id=conversation_id).values_list(
            "comment", flat=True
        ),
    ]
    return placeholders_known(
        texts=texts,
        values=[
            (entry.placeholder, entry.kind, vault_open(entry.sealed_value))
            for entry in conversation_vault(conversation_id=conversation_id)
        ],
    )


class VaultRefused(Exception):
    """Only the agent handling the conversation's open handoff reads its vault."""


def vault_read(*, conversation: Conversation, agent: AbstractBaseUser) -> list[VaultValue]:
    """The personal data the customer wrote, opened for `agent`, the one handling the
    conversation's open handoff (or VaultRefused); the reading is audited, with the
    placeholders no current key opens."""
    handoff = handoff_open(conversation_id=conversation.pk)
    if handoff is None or handoff.claimed_by_id != agent.pk:
        raise VaultRefused
    opened = [
        VaultValue(entry=entry, value=vault_open(entry.sealed_value))
        for entry in conversation_vault(conversation_id=conversation.pk)
    ]
    workspace_audit(
        workspace_id=conversation.workspace_id,
        conversation=conversation,
        kind=AuditEvent.Kind.VAULT_READ,
        actor=agent,
        detail={
            "placeholders": [item.entry.placeholder for item in opened],
            "unopened": [item.entry.placeholder for item in opened if item.value is None],
        },
    )
    return opened


def vault_reseal() -> tuple[int, int]:
    """Seals every entry again with the first key (after a new key was put first); how many
    were sealed again, and how many no current key opens (left as they are)."""
    resealed = unopened = last_pk = 0
    entries = VaultEntry.objects.only("sealed_value").order_by("pk")
    while batch := list(entries.filter(pk__gt=last_pk)[:RESEAL_BATCH]):
        last_pk = batch[-1].pk
        changed = []
        for entry in batch:
            try:
                entry.sealed_value = _keys().rotate(entry.sealed_value.encode()).decode()
            except InvalidToken:
                unopened += 1
                continue
            changed.append(entry)
        VaultEntry.objects.bulk_update(changed, ["sealed_value"])
        resealed += len(changed)
    return resealed, unopened


@checks.register(checks.Tags.security)
def vault_keys_check(app_configs, **kwargs) -> list[checks.Error]:
    """A key that is not one stops `migrate` and `check` with this error, before a customer
    writes a card number that cannot be sealed."""
    errors = []
    for number, key in enumerate(_configured(settings.KEEL_VAULT_KEY), start=1):
        try:
            Fernet(key)
        except ValueError:
            errors.append(
                checks.Error(
                    f"KEEL_VAULT_KEY: key {number} is not a Fernet key "
                    "(32 url-safe base64-encoded bytes).",
                    hint='Make one with: python -c "from cryptography.fernet import Fernet; '
                    'print(Fernet.generate_key().decode())"',
                    id="keel.E001",
                )
            )
    return errors


def _keys() -> MultiFernet:
    return _fernet(keys=settings.KEEL_VAULT_KEY, secret_key=settings.SECRET_KEY)


@cache
def _fernet(*, keys: str, secret_key: str) -> MultiFernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"keel personal data vault"
    ).derive(secret_key.encode())
    configured = [Fernet(key) for key in _configured(keys)]
    return MultiFernet([*configured, Fernet(base64.urlsafe_b64encode(derived))])


def _configured(keys: str) -> list[str]:
    return [key.strip() for key in keys.split(",") if key.strip()]
