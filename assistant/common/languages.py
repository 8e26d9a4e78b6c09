"""The customer's language: Keel's fixed replies are said in the language the customer
writes in, from Django's gettext catalogues under `locale/` (a language without one, or
a message too short to tell, gets the English text)."""

from collections.abc import Sequence

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise

from knowledge.languages import text_language


def customer_language(*, questions: Sequence[str]) -> str:
    """ISO 639-1 code of the language the customer writes in."""
    return text_language(text=" ".join(questions))


def in_language(message: Promise, *, language: str, **values) -> str:
    """`message` (a `gettext_lazy` text, its `{names}` filled from `values`) in
    `language` (an ISO 639-1 code; empty: Keel's default). A plain string, such as an
    admin's own text, comes back as written, braces and all, when there are no values."""
    with translation.override(language or settings.LANGUAGE_CODE):
        return str(message).format(**values) if values else str(message)


def in_customer_language(message: Promise, *, text: str, **values) -> str:
    """`message` in the language the customer wrote `text` in."""
    return in_language(message, language=customer_language(questions=[text]), **values)
