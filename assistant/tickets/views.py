"""Pages of e-mail tickets: the inbound webhook a mail provider posts to, the customer's
transcript behind the signed link of an e-mail, and an agent's notification settings."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from assistant.common.access import staff_required
from assistant.tickets.addresses import conversation_of_transcript_token
from assistant.tickets.forms import NotificationPreferenceForm
from assistant.tickets.notifications import notification_preference_save
from assistant.tickets.selectors import (
    notification_preference,
    transcript_conversation,
    transcript_messages,
)
from assistant.tickets.services import InboundRejected, ticket_mail_receive

# Far above an e-mail of text and a few attachments; longer posts are refused unread.
INBOUND_MAX_BYTES = 25 * 1024 * 1024


@csrf_exempt  # a mail provider's post, authenticated by the shared secret instead
@require_POST
def inbound_mail(request):
    """One e-mail as raw MIME (RFC 5322) in the request's body, posted by the mail
    provider or the mail server's pipe with `Authorization: Bearer KEEL_INBOUND_SECRET`.
    Without a secret configured, the endpoint is off."""
    secret = settings.KEEL_INBOUND_SECRET
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not secret or not constant_time_compare(given, secret):
        return HttpResponse("Not authorised.", status=403, content_type="text/plain")
    raw = request.read(INBOUND_MAX_BYTES + 1)
    if len(raw) > INBOUND_MAX_BYTES:
        return HttpResponse("E-mail too large.", status=413, content_type="text/plain")
    try:
        ticket_mail_receive(raw=raw)
    except InboundRejected as rejection:
        return HttpResponse(str(rejection), status=400, content_type="text/plain")
    return HttpResponse(status=204)


@require_GET
def ticket_transcript(request, transcript_token: str):
    """The conversation as its customer saw it, for the link in a ticket's e-mail."""
    conversation_id = conversation_of_transcript_token(token=transcript_token)
    conversation = (
        transcript_conversation(conversation_id=conversation_id)
        if conversation_id is not None
        else None
    )
    if conversation is None:
        raise Http404("This link has expired or is not valid.")
    return render(
        request,
        "tickets/transcript.html",
        {
            "workspace": conversation.workspace,
            "transcript": transcript_messages(conversation_id=conversation.pk),
        },
    )


@staff_required
def notification_settings(request):
    """An agent's choice: an e-mail when a customer waits N minutes with nobody online, a
    browser notification when one waits N minutes while their console is in the background."""
    form = NotificationPreferenceForm(
        request.POST or None, instance=notification_preference(membership=request.membership)
    )
    if request.method == "POST" and form.is_valid():
        notification_preference_save(
            membership=request.membership,
            by_email=form.cleaned_data["by_email"],
            in_browser=form.cleaned_data["in_browser"],
            after_minutes=form.cleaned_data["after_minutes"],
        )
        messages.success(request, "Your notification settings are saved.")
        return redirect("console_notifications", request.workspace.slug)
    return render(request, "tickets/notifications.html", {"form": form})
