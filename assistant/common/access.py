"""Who may see a workspace's pages: members only, and some pages only for some roles."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404

from assistant.models import Membership


def workspace_role_required(*roles: Membership.Role):
    """Resolve `workspace_slug` to the user's membership, or refuse.

    Non-members get 404, so workspace names do not leak; members without the role get 403.
    The view receives `request.workspace` and `request.membership`.
    """

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, workspace_slug: str, *args, **kwargs):
            membership = (
                Membership.objects.select_related("workspace")
                .filter(user=request.user, workspace__slug=workspace_slug)
                .first()
            )
            if membership is None:
                raise Http404("No such workspace.")
            if membership.role not in roles:
                raise PermissionDenied("Your role in this workspace does not allow this page.")
            request.workspace = membership.workspace
            request.membership = membership
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


admin_required = workspace_role_required(Membership.Role.ADMIN)
staff_required = workspace_role_required(Membership.Role.AGENT, Membership.Role.ADMIN)
