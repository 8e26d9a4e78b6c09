"""Website syncs in the worker (Procrastinate): fetching a site never runs in a web
request. Listed in `PROCRASTINATE_IMPORT_PATHS` so the worker knows these jobs."""

import contextlib

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued

from knowledge.models import WebsiteSource
from knowledge.selectors import website_sources_due
from knowledge.website_sync import website_source_sync


@app.task(queue="websites", retry=RetryStrategy(max_attempts=2, wait=60))
def website_source_sync_job(*, source_id: int, actor_id: int | None = None) -> None:
    source = WebsiteSource.objects.select_related("knowledge_base").filter(pk=source_id).first()
    if source is None:  # removed while it waited in the queue
        return
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    website_source_sync(source=source, actor=actor)


def website_source_sync_defer(*, source: WebsiteSource, actor: AbstractBaseUser | None) -> None:
    """Queue the source's sync, once: a second click while it waits queues nothing more."""
    WebsiteSource.objects.filter(pk=source.pk).update(status=WebsiteSource.Status.QUEUED)
    # In a savepoint: a refused duplicate must not spoil the caller's transaction.
    with contextlib.suppress(AlreadyEnqueued), transaction.atomic():
        website_source_sync_job.configure(queueing_lock=f"website_source_sync_{source.pk}").defer(
            source_id=source.pk, actor_id=actor.pk if actor else None
        )


@app.periodic(cron="*/5 * * * *")
@app.task(queue="websites", queueing_lock="website_sources_sync_due")
def website_sources_sync_due_job(timestamp: int) -> None:
    """The sources whose schedule says they are due, each queued for its sync."""
    for source in website_sources_due():
        website_source_sync_defer(source=source, actor=None)
