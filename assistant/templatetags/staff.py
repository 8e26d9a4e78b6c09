"""The staff pages' shell: the sidebar's links, the current one marked for screen readers
(`aria-current`) as well as by its look."""

from dataclasses import dataclass

from django import template
from django.urls import reverse

register = template.Library()


@dataclass(frozen=True)
class NavLink:
    label: str
    url_name: str
    icon: str
    admin_only: bool
    # Pages elsewhere that belong to this one, by URL name (an answer's "why" page).
    also: tuple[str, ...] = ()


NAVIGATION = (
    NavLink("Console", "console", "inbox", False, also=("answer",)),
    NavLink("Setup", "setup", "setup", True),
    NavLink("Knowledge", "knowledge_bases", "book", True),
    NavLink("Chat widget", "widget_settings", "chat", True),
    NavLink("Policy", "policy", "shield", True),
    NavLink("Evaluation", "evaluation", "check", True),
    NavLink("Analytics", "analytics", "chart", True),
    NavLink("Content gaps", "gaps", "lightbulb", True),
    NavLink("People", "people", "people", True),
    NavLink("Audit", "audit_log", "list", True),
)


@register.inclusion_tag("components/navigation.html", takes_context=True)
def staff_navigation(context):
    """The links the member's role may open; current is the one whose pages hold the
    request's path."""
    request = context["request"]
    slug = request.workspace.slug
    is_admin = request.membership.role == "admin"
    url_name = request.resolver_match.url_name if request.resolver_match else None
    links = []
    for link in NAVIGATION:
        if link.admin_only and not is_admin:
            continue
        url = reverse(link.url_name, args=[slug])
        current = request.path.startswith(url) or url_name in link.also
        links.append({"label": link.label, "url": url, "icon": link.icon, "current": current})
    return {"links": links}
