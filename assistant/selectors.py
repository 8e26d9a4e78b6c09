"""Reads for workspaces and their staff."""

from django.contrib.auth.models import AbstractBaseUser

from assistant.models import Membership


def membership_first(*, user: AbstractBaseUser) -> Membership | None:
    """The membership a signed-in person lands in when they open Keel."""
    return Membership.objects.select_related("workspace").filter(user=user).order_by("pk").first()
