"""The publish gate's report, named for people: a kind of case by its heading."""

from django import template

from assistant.evaluation.policy_checks import CATEGORY_NAMES

register = template.Library()


@register.filter
def check_kind(category: str) -> str:
    return CATEGORY_NAMES.get(category, category.replace("_", " ").capitalize() or "Other")
