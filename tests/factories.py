import factory
from django.contrib.auth import get_user_model

from assistant.models import Membership, PolicyVersion, Workspace
from knowledge.models import KnowledgeBase


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
