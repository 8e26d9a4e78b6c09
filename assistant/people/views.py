"""The people pages: members and invitations (admins), accepting an invitation (anyone
with its link), switching workspace, the setup checklist, and the operator's first run."""

from django.contrib.auth import login
from django.contrib.auth.views import PasswordResetConfirmView, redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from assistant.common.access import admin_required, staff_required
from assistant.models import Invitation, Membership
from assistant.people.forms import (
    InvitationForm,
    JoinForm,
    PasswordResetSetForm,
    RoleForm,
    WorkspaceForm,
)
from assistant.people.invitations import (
    InvitationRefused,
    email_normalized,
    invitation_accept,
    invitation_create,
    invitation_from_token,
    invitation_resend,
    invitation_revoke,
    login_exists,
)
from assistant.people.members import (
    MemberChangeRefused,
    member_remove,
    member_role_change,
)
from assistant.people.selectors import (
    WORKSPACE_SESSION_KEY,
    invitations_open,
    landing_url,
    setup_steps,
    workspace_members,
)
from assistant.people.workspaces import workspace_create
from assistant.widget.snippet import widget_snippet

# Django's own backend: `login()` needs it named when several are configured (axes').
LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"


@require_GET
@admin_required
def people_page(request):
    return _people(request)


@require_POST
@admin_required
def invitation_create_request(request):
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return _people(request, form=form)
    try:
        sent = invitation_create(
            workspace=request.workspace,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            invited_by=request.user,
        )
    except InvitationRefused as refused:
        form.add_error("email", str(refused))
        return _people(request, form=form)
    return _people(request, sent=sent)


@require_POST
@admin_required
def invitation_resend_request(request, invitation_id: int):
    try:
        sent = invitation_resend(invitation=_invitation(request, invitation_id), actor=request.user)
    except InvitationRefused as refused:
        return _people(request, error=str(refused))
    return _people(request, sent=sent)


@require_POST
@admin_required
def invitation_revoke_request(request, invitation_id: int):
    invitation = _invitation(request, invitation_id)
    try:
        invitation_revoke(invitation=invitation, actor=request.user)
    except InvitationRefused as refused:
        return _people(request, error=str(refused))
    return _people(request, notice=f"The invitation of {invitation.email} is withdrawn.")


@require_POST
@admin_required
def member_role_request(request, membership_id: int):
    membership = _membership(request, membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _people(request, error="Choose a role: agent or admin.")
    try:
        member_role_change(
            membership=membership, role=form.cleaned_data["role"], actor=request.user
        )
    except MemberChangeRefused as refused:
        return _people(request, error=str(refused))
    role = Membership.Role(form.cleaned_data["role"])
    if membership.user_id == request.user.pk and role != Membership.Role.ADMIN:
        return _leave(request)  # no longer an admin: this page is not theirs any more
    return _people(request, notice=f"{_name(membership.user)} is now {role.label.lower()}.")


@require_POST
@admin_required
def member_remove_request(request, membership_id: int):
    membership = _membership(request, membership_id)
    try:
        member_remove(membership=membership, actor=request.user)
    except MemberChangeRefused as refused:
        return _people(request, error=str(refused))
    if membership.user_id == request.user.pk:
        return _leave(request)
    return _people(request, notice=f"{_name(membership.user)} is no longer a member.")


@require_http_methods(["GET", "POST"])
def invitation_accept_page(request, invitation_token: str):
    """The invited person's page: a new person sets their name and password; someone
    signed in with the invited address joins with one click."""
    try:
        invitation = invitation_from_token(invitation_token)
    except InvitationRefused as refused:
        return _refused(request, refused)
    user = request.user if request.user.is_authenticated else None
    form = JoinForm(request.POST or None, email=invitation.email) if user is None else None
    if request.method == "POST" and (form is None or form.is_valid()):
        new_login = form.cleaned_data if form else {"name": "", "password1": ""}
        try:
            membership = invitation_accept(
                invitation=invitation,
                user=user,
                name=new_login["name"],
                password=new_login["password1"],
            )
        except InvitationRefused as refused:
            return _refused(request, refused)
        if user is None:
            login(request, membership.user, backend=LOGIN_BACKEND)
        request.session[WORKSPACE_SESSION_KEY] = membership.workspace.slug
        return redirect(landing_url(membership=membership))
    return render(
        request,
        "people/accept.html",
        {
            "invitation": invitation,
            "form": form,
            "other_login": user is not None and email_normalized(user.email) != invitation.email,
            "has_login": user is None and login_exists(invitation.email),
        },
    )


class PasswordResetConfirm(PasswordResetConfirmView):
    """Django's own page for the e-mailed link, with the new password audited."""

    form_class = PasswordResetSetForm


@require_GET
@staff_required
def workspace_switch(request):
    """Opens the workspace's landing page, and remembers it for `/app/`."""
    request.session[WORKSPACE_SESSION_KEY] = request.workspace.slug
    return redirect(landing_url(membership=request.membership))


@require_GET
@admin_required
def setup_page(request):
    return render(request, "people/setup.html", {"steps": setup_steps(workspace=request.workspace)})


@require_http_methods(["GET", "POST"])
def start_page(request):
    """The operator's first run: a superuser starts a company's workspace."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not request.user.is_superuser:
        raise PermissionDenied("Only Keel's operators (superusers) start workspaces.")
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        started = workspace_create(
            name=form.cleaned_data["name"],
            admin_email=form.cleaned_data["admin_email"],
            created_by=request.user,
        )
        snippet = widget_snippet(
            workspace=started.workspace, keel_url=request.build_absolute_uri("/")
        )
        return render(
            request,
            "people/start.html",
            {"form": WorkspaceForm(), "started": started, "snippet": snippet},
        )
    return render(request, "people/start.html", {"form": form})


def _people(request, *, form=None, sent=None, notice: str = "", error: str = ""):
    """The members and invitations section; the whole page unless htmx asked for it."""
    context = {
        "members": workspace_members(workspace=request.workspace),
        "invitations": invitations_open(workspace=request.workspace),
        "roles": Membership.Role.choices,
        "form": form or InvitationForm(),
        "sent": sent,
        "notice": notice,
        "error": error,
    }
    template = "people/_people.html" if request.htmx else "people/page.html"
    return render(request, template, context)


def _refused(request, refused: InvitationRefused):
    """Why the link opens nothing (expired, used, withdrawn, not valid, another login's)."""
    return render(request, "people/invitation_refused.html", {"reason": refused}, status=400)


def _leave(request):
    """After an admin removed or demoted themselves: to their landing page."""
    return HttpResponseClientRedirect(reverse("home")) if request.htmx else redirect("home")


def _invitation(request, invitation_id: int) -> Invitation:
    return get_object_or_404(Invitation, pk=invitation_id, workspace=request.workspace)


def _membership(request, membership_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_id, workspace=request.workspace
    )


def _name(user) -> str:
    return user.get_full_name() or user.get_username()
