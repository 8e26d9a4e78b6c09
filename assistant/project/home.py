from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from assistant.people.selectors import WORKSPACE_SESSION_KEY, landing_url, membership_current


@login_required
def home(request):
    """The workspace the person last switched to (else their first); an operator with
    none starts one."""
    membership = membership_current(
        user=request.user, workspace_slug=request.session.get(WORKSPACE_SESSION_KEY, "")
    )
    if membership is None:
        if request.user.is_superuser:
            return redirect("start")
        return render(request, "no_workspace.html", status=403)
    return redirect(landing_url(membership=membership))


@require_GET
def favicon(request):
    """Keel's icon where browsers look for it on pages that name none (an htmx partial
    opened alone, a download): without it, each logs a 404."""
    return redirect(static("keel/favicon.svg"))
