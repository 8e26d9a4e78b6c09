"""How a member of staff is named to customers: by the name they gave, never their login."""

from django.contrib.auth.models import AbstractBaseUser

NO_NAME = "Support team"


def staff_name_for_customer(*, user: AbstractBaseUser | None, fallback: str = NO_NAME) -> str:
    """The first name, else the full name, else `fallback`: a username such as "admin" is
    an account, not a person, and says nothing the customer should see."""
    if user is None:
        return fallback
    return user.get_short_name().strip() or user.get_full_name().strip() or fallback


def name_initials(*, name: str) -> str:
    """Up to two letters for an avatar: "Ana Lima" is "AL", "Support team" is "ST"."""
    return "".join(word[0] for word in name.split()[:2]).upper()
