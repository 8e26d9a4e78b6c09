"""Agents' e-mail notifications of conversations left waiting while nobody is online in
the console: each waiting handoff tells each agent who asked for it once. (Browser
notifications are fired by the console page itself: static/keel/console.js.)"""

import logging

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from assistant.models import Handoff, Membership, NotificationPreference, WaitNotification
from assistant.tickets.selectors import waits_to_notify
from assistant.tickets.sending import SENDING_FAILED

logger = logging.getLogger(__name__)


def waits_notify() -> int:
    """Records, then e-mails after the commit, each agent's news of each handoff waiting
    past their chosen minutes; how many were told."""
    told = 0
    for handoff, preference in waits_to_notify():
        user = preference.membership.user
        if not user.email:
            continue
        with transaction.atomic():
            _, created = WaitNotification.objects.get_or_create(handoff=handoff, user=user)
            if created:
                _wait_email_after_commit(handoff=handoff, user=user)
                told += 1
    return told


def _wait_email_after_commit(*, handoff: Handoff, user: AbstractBaseUser) -> None:
    workspace = handoff.conversation.workspace
    context = {
        "handoff": handoff,
        "workspace": workspace,
        "link": settings.KEEL_PUBLIC_URL
        + reverse("console_conversation", args=[workspace.slug, handoff.conversation_id]),
    }

    def send() -> None:
        try:
            send_mail(
                subject=f"A customer is waiting · {workspace.name}",
                message=render_to_string("tickets/email_waiting.txt", context),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[user.email],
            )
        except SENDING_FAILED as error:  # a notification lost is logged; the queue still shows it
            logger.warning("Waiting notification to user %s not sent: %s", user.pk, error)

    transaction.on_commit(send)


def notification_preference_save(
    *, membership: Membership, by_email: bool, in_browser: bool, after_minutes: int
) -> NotificationPreference:
    preference, _ = NotificationPreference.objects.update_or_create(
        membership=membership,
        defaults={"by_email": by_email, "in_browser": in_browser, "after_minutes": after_minutes},
    )
    return preference
