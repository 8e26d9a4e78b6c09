"""Background jobs on PostgreSQL (Procrastinate): indexing never runs inside a web request."""

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from knowledge.ingest import document_index
from knowledge.models import Document

# Stalled means: started by a worker that stopped sending heartbeats (killed, machine lost).
STALLED_AFTER_SECONDS = 60


@app.task(queue="ingestion", retry=RetryStrategy(max_attempts=5, exponential_wait=5))
def document_index_job(*, document_id: int) -> None:
    document = Document.objects.filter(pk=document_id).first()
    if document is None:  # deleted while it waited in the queue
        return
    document_index(document=document)


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
