from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from assistant.models import Membership
from assistant.selectors import membership_first


@login_required
def home(request):
    membership = membership_first(user=request.user)
    if membership is None:
        return render(request, "no_workspace.html", status=403)
    # Agents work in the console; the knowledge pages are for admins.
    if membership.role == Membership.Role.AGENT:
        return redirect("console", workspace_slug=membership.workspace.slug)
    return redirect("knowledge_bases", workspace_slug=membership.workspace.slug)
