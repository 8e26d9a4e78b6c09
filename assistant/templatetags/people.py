from django import template

from assistant.people.selectors import memberships_of

register = template.Library()


@register.inclusion_tag("people/_workspace_switcher.html", takes_context=True)
def workspace_switcher(context):
    """The signed-in person's workspaces, for the topbar's switcher."""
    request = context["request"]
    memberships = memberships_of(user=request.user) if request.user.is_authenticated else []
    return {"request": request, "memberships": memberships}
