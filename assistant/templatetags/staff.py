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
    # Other pages that belong to this one (the console's conversations, answers' "why").
    also: tuple[str, ...] = ()


NAVIGATION = (
    NavLink("Console", "console", "inbox", False, also=("conversations/", "answers/")),
    NavLink("Knowledge", "knowledge_bases", "book", True),
    NavLink("Chat widget", "widget_settings", "chat", True),
    NavLink("Policy", "policy", "shield", True),
    NavLink("Evaluation", "evaluation", "check", True),
    NavLink("Analytics", "analytics", "chart", True),
    NavLink("Content gaps", "gaps", "lightbulb", True),
    NavLink("Audit", "audit_log", "list", True),
)


@register.inclusion_tag("components/navigation.html", takes_context=True)
def staff_navigation(context):
    """The links the member's role may open; the one whose pages hold the request's path
    is current (the console's own address is the workspace's root, so it matches whole)."""
    request = context["request"]
    slug = request.workspace.slug
    is_admin = request.membership.role == "admin"
    root = reverse("console", args=[slug])
    links = []
    for link in NAVIGATION:
        if link.admin_only and not is_admin:
            continue
        url = reverse(link.url_name, args=[slug])
        if url == root:
            current = request.path == root or any(
                request.path.startswith(root + part) for part in link.also
            )
        else:
            current = request.path.startswith(url)
        links.append({"label": link.label, "url": url, "icon": link.icon, "current": current})
    return {"links": links}
