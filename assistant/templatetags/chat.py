from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe

from assistant.conversations.rendering import answer_html
from assistant.conversations.staff_names import NO_NAME, name_initials, staff_name_for_customer
from assistant.models import Message

register = template.Library()


@register.simple_tag
def answer_body(message: Message) -> str:
    public_key = message.conversation.workspace.public_key
    urls = {
        citation.marker: reverse("cited_source", args=[public_key, citation.public_id])
        for citation in message.citations.all()
    }
    return mark_safe(answer_html(text=message.text, citation_urls=urls))


@register.filter
def staff_name(user, fallback: str = NO_NAME) -> str:
    return staff_name_for_customer(user=user, fallback=fallback)


@register.filter
def initials(name: str) -> str:
    return name_initials(name=name)
