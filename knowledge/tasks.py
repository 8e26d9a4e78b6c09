"""Background jobs on PostgreSQL (Procrastinate): indexing never runs inside a web request."""

import contextlib

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued

from knowledge.ingest import document_index
from knowledge.models import Document, KnowledgeBase
from knowledge.own_questions import own_questions_prepare

# Stalled means: started by a worker that stopped sending heartbeats (killed, machine lost).
STALLED_AFTER_SECONDS = 60


@app.task(queue="ingestion", retry=RetryStrategy(max_attempts=5, exponential_wait=5))
def document_index_job(*, document_id: int) -> None:
    document = Document.objects.filter(pk=document_id).first()
    if document is None:  # deleted while it waited in the queue
        return
    document_index(document=document)
    own_questions_prepare_defer(workspace_id=document.knowledge_base.workspace_id)


def own_questions_prepare_defer(*, workspace_id: int) -> None:
    """Once for a batch of uploads: while a job waits, the next documents join it."""
    with contextlib.suppress(AlreadyEnqueued):
        own_questions_prepare_job.configure(
            queueing_lock=f"own_questions_prepare_{workspace_id}"
        ).defer(workspace_id=workspace_id)


@app.task(queue="ingestion", retry=2)
def own_questions_prepare_job(*, workspace_id: int) -> None:
    own_questions_prepare(workspace_id=workspace_id)


@app.periodic(cron="* * * * *")
@app.task(queue="ingestion", queueing_lock="own_questions_refresh")
def own_questions_refresh_job(timestamp: int) -> None:
    """Any other change of what is searchable (an archived or released passage, a
    deletion, an ingest by command) and workspaces indexed before the sets were stored."""
    workspaces = KnowledgeBase.objects.values_list("workspace_id", flat=True).distinct()
    for workspace_id in workspaces:
        own_questions_prepare(workspace_id=workspace_id)


@app.periodic(cron="* * * * *")
@app.task(queue="ingestion", queueing_lock="stalled_jobs_retry")
async def stalled_jobs_retry_job(timestamp: int) -> None:
    await stalled_jobs_retry(seconds_since_heartbeat=STALLED_AFTER_SECONDS)


async def stalled_jobs_retry(*, seconds_since_heartbeat: float) -> int:
    """Put the jobs of dead workers back in the queue; their documents were never half-written."""
    stalled = await app.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=seconds_since_heartbeat
    )
    for job in stalled:
        await app.job_manager.retry_job(job)
    return len(stalled)
