from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from assistant.conversations.selectors import membership_first


@login_required
def home(request):
    membership = membership_first(user=request.user)
    if membership is None:
        return render(request, "no_workspace.html", status=403)
    # Agents and admins alike start where customers are waiting.
    return redirect("console", workspace_slug=membership.workspace.slug)


@require_GET
def favicon(request):
    """Keel's icon where browsers look for it on pages that name none (an htmx partial
    opened alone, a download): without it, each logs a 404."""
    return redirect(static("keel/favicon.svg"))
