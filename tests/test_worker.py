"""A worker killed in the middle of a document: nothing half-indexed, and the job is retried."""

import asyncio
import signal
import time

from django.core.files.uploadedfile import SimpleUploadedFile

from knowledge.models import Chunk, Document
from knowledge.tasks import stalled_jobs_retry
from knowledge.uploads import documents_upload


def wait_for(condition, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_killed_worker_leaves_no_half_indexed_document_and_the_job_is_retried(
    knowledge_base, job_queue, worker_process
):
    sentences = " ".join(
        f"Clause {n} of the long warranty explains one more case." for n in range(2000)
    )
    [outcome] = documents_upload(
        knowledge_base=knowledge_base,
        files=[SimpleUploadedFile("warranty.txt", sentences.encode())],
    )
    document = outcome.document
    wait_for(
        lambda: Document.objects.get(pk=document.pk).status == Document.Status.PROCESSING,
        timeout=60,
        what="the worker to start indexing",
    )
    # Killed as soon as it has begun: 2,000 sentences (120 passages) keep it parsing and
    # embedding for seconds, and the test holds wherever the kill lands.
    worker_process.send_signal(signal.SIGKILL)
    worker_process.wait()

    document.refresh_from_db()
    assert document.status == Document.Status.PROCESSING
    assert not Chunk.objects.filter(document=document).exists()

    # The job is retried once its dead worker's last heartbeat is half a second old.
    wait_for(
        lambda: asyncio.run(stalled_jobs_retry(seconds_since_heartbeat=0.5)) == 1,
        timeout=30,
        what="the dead worker's job to be found stalled and retried",
    )
    job_queue()

    document.refresh_from_db()
    assert document.status == Document.Status.READY
    assert document.chunk_count == Chunk.objects.filter(document=document).count() > 100
