"""The workspace's own questions are embedded by the worker once its knowledge base
changes, and stored: a server process reads them, so no customer's message waits for them
to be embedded, and a later change (another upload, an archived page) makes them stale
until the worker prepares them again."""

import numpy as np
from django.core.files.base import ContentFile

from knowledge import embeddings, own_questions
from knowledge.ingest import document_archive
from knowledge.models import Document, OwnQuestionSet
from knowledge.tasks import own_questions_refresh_job
from knowledge.uploads import documents_upload
from tests.support.commands import ingest

PAGES = {
    "bike-servicing.md": "# Bike servicing\n\n## How often should my bike be serviced?\n\n"
    "Once a year, or every 3000 km.\n",
    "store-hours.md": "# Store hours\n\n## When is the workshop open?\n\n"
    "Monday to Saturday, 9 to 6.\n",
}


def upload(knowledge_base, *names: str) -> None:
    documents_upload(
        knowledge_base=knowledge_base,
        files=[ContentFile(PAGES[name].encode(), name=name) for name in names],
    )


def a_server_process_reads(workspace_id: int) -> tuple[tuple[str, ...], np.ndarray]:
    """What a server process that has seen nothing yet gets for a customer's message."""
    own_questions._known.clear()
    embeddings.vector_cache_clear()
    vectors = own_questions.own_question_vectors(workspace_id=workspace_id)
    texts = own_questions.own_questions(workspace_id=workspace_id)
    assert not any(text in embeddings._cache for text in texts)  # none embedded here
    return texts, vectors


def test_after_an_upload_the_worker_has_the_vectors_ready(knowledge_base, job_queue):
    workspace_id = knowledge_base.workspace_id
    upload(knowledge_base, "bike-servicing.md")

    job_queue()

    texts, vectors = a_server_process_reads(workspace_id)
    assert "How often should my bike be serviced?" in texts
    assert vectors.shape == (len(texts), 384)
    expected = embeddings.texts_embed(texts=list(texts))
    assert np.allclose(vectors, expected, atol=1e-5)


def test_a_change_of_the_knowledge_base_is_prepared_again(knowledge_base, job_queue):
    workspace_id = knowledge_base.workspace_id
    upload(knowledge_base, "bike-servicing.md")
    job_queue()
    upload(knowledge_base, "store-hours.md")
    job_queue()
    assert "When is the workshop open?" in a_server_process_reads(workspace_id)[0]

    document_archive(document=Document.objects.get(source="bike-servicing.md"), archived=True)
    stale = OwnQuestionSet.objects.get(workspace_id=workspace_id).version
    own_questions._known.clear()
    assert "Bike servicing" not in own_questions.own_questions(workspace_id=workspace_id)
    own_questions_refresh_job(timestamp=0)  # the worker's minute

    assert OwnQuestionSet.objects.get(workspace_id=workspace_id).version != stale
    texts, _ = a_server_process_reads(workspace_id)
    assert "Bike servicing" not in texts and "Store hours" in texts


def test_the_ingest_command_leaves_the_vectors_ready(knowledge_base, tmp_path):
    (tmp_path / "store-hours.md").write_text(PAGES["store-hours.md"])

    ingest(tmp_path, knowledge_base)

    assert "When is the workshop open?" in a_server_process_reads(knowledge_base.workspace_id)[0]
