"""Admin page for the chat widget: its look, where it may appear, and the embed snippet."""

from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from assistant.common.access import admin_required
from assistant.widget.forms import WidgetSettingsForm
from assistant.widget.snippet import widget_snippet
from assistant.widget.workspaces import identity_secret_rotate, widget_settings_save


@require_http_methods(["GET", "POST"])
@admin_required
def widget_settings(request):
    form = WidgetSettingsForm(
        request.POST or None, request.FILES or None, instance=request.workspace
    )
    saved = request.method == "POST" and form.is_valid()
    if saved:
        widget_settings_save(form=form, actor=request.user)
    if request.htmx:
        return render(request, "widget_settings/_form.html", {"form": form, "saved": saved})
    snippet = widget_snippet(workspace=request.workspace, keel_url=request.build_absolute_uri("/"))
    return render(
        request, "widget_settings/page.html", {"form": form, "saved": saved, "snippet": snippet}
    )


@require_POST
@admin_required
def identity_secret_new(request):
    identity_secret_rotate(workspace=request.workspace, actor=request.user)
    return render(request, "widget_settings/_identity.html", {"rotated": True})
