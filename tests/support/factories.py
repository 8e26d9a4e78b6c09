from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from assistant.conversations.vault import vault_seal
from assistant.models import (
    AuditEvent,
    Citation,
    Conversation,
    Feedback,
    Handoff,
    Membership,
    Message,
    PolicyVersion,
    VaultEntry,
    Workspace,
)
from knowledge.models import Document, KnowledgeBase


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Company {n}")
    slug = factory.Sequence(lambda n: f"company-{n}")


class KnowledgeBaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KnowledgeBase

    workspace = factory.SubFactory(WorkspaceFactory)
    name = "Help center"
    slug = factory.Sequence(lambda n: f"help-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"staff{n}")
    password = factory.django.Password("correct horse battery")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    workspace = factory.SubFactory(WorkspaceFactory)
    role = Membership.Role.ADMIN


class PolicyVersionFactory(factory.django.DjangoModelFactory):
    """A published version (the next number); pass `number=None` for a draft."""

    class Meta:
        model = PolicyVersion

    workspace = factory.SubFactory(WorkspaceFactory)
    number = factory.LazyAttribute(
        lambda version: PolicyVersion.objects.filter(workspace=version.workspace).count() + 1
    )


class BackdatedFactory(factory.django.DjangoModelFactory):
    """Django sets `auto_now(_add)` fields on save; a test's past is written after the insert.

    List such fields in `_backdated`; a value given for one of them is applied with UPDATE."""

    _backdated: tuple[str, ...] = ()

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        dates = {name: kwargs.pop(name) for name in cls._backdated if name in kwargs}
        instance = super()._create(model_class, *args, **kwargs)
        if dates:
            model_class.objects.filter(pk=instance.pk).update(**dates)
            instance.refresh_from_db(fields=list(dates))
        return instance


class ConversationFactory(BackdatedFactory):
    """A customer conversation; `started_at` alone backdates its last message too."""

    class Meta:
        model = Conversation

    _backdated = ("started_at", "last_message_at")

    workspace = factory.SubFactory(WorkspaceFactory)
    visitor_key = factory.Sequence(lambda n: f"visitor-{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        if "started_at" in kwargs:
            kwargs.setdefault("last_message_at", kwargs["started_at"])
        return super()._create(model_class, *args, **kwargs)


class MessageFactory(factory.django.DjangoModelFactory):
    """A customer question; AnswerFactory makes the assistant's answer."""

    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    role = Message.Role.CUSTOMER
    text = "How long does delivery take?"


class AnswerFactory(MessageFactory):
    role = Message.Role.ASSISTANT
    outcome = Message.Outcome.ANSWERED
    text = "Delivery takes three to five days [1]."


class FeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Feedback

    message = factory.SubFactory(AnswerFactory)
    rating = Feedback.Rating.UP


class VaultEntryFactory(factory.django.DjangoModelFactory):
    """A card a customer wrote, sealed with the vault's keys of the moment."""

    class Meta:
        model = VaultEntry
        exclude = ("value",)

    message = factory.SubFactory(MessageFactory, text="Can I pay with my card [CARD_1]?")
    placeholder = "[CARD_1]"
    kind = "CARD"
    value = "4111 1111 1111 1111"
    sealed_value = factory.LazyAttribute(lambda entry: vault_seal(entry.value))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))


class HandoffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Handoff

    conversation = factory.SubFactory(ConversationFactory)
    reason = Handoff.Reason.ASKED
    summary = "The customer wants a person."


class DocumentFactory(BackdatedFactory):
    class Meta:
        model = Document

    _backdated = ("updated_at",)

    knowledge_base = factory.SubFactory(KnowledgeBaseFactory)
    title = factory.Sequence(lambda n: f"Article {n}")
    source = factory.Sequence(lambda n: f"article-{n}.md")
    status = Document.Status.READY
    indexed_at = factory.LazyFunction(timezone.now)


class CitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Citation

    message = factory.SubFactory(AnswerFactory)
    marker = factory.Sequence(lambda n: n + 1)
    document = factory.SubFactory(DocumentFactory)
    document_title = factory.LazyAttribute(lambda citation: citation.document.title)
    quote = "Delivery takes three to five days."
    score = 0.8


class AuditEventFactory(BackdatedFactory):
    class Meta:
        model = AuditEvent

    _backdated = ("created_at",)

    workspace = factory.SubFactory(WorkspaceFactory)
    kind = AuditEvent.Kind.REDACTION
