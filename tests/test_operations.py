"""The health check and the Prometheus endpoint: content, and nothing without the token."""

import pytest
from asgiref.sync import async_to_sync
from django.urls import reverse
from prometheus_client import REGISTRY

from tests.support.chat import ChatClient, one_question

pytestmark = pytest.mark.django_db(transaction=True)


def test_health_checks_the_database(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_metrics_need_the_token(client, settings):
    settings.KEEL_METRICS_TOKEN = ""
    assert client.get(reverse("metrics")).status_code == 404
    settings.KEEL_METRICS_TOKEN = "s3cret-token"
    assert client.get(reverse("metrics")).status_code == 401
    wrong = client.get(reverse("metrics"), headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401


@pytest.mark.usefixtures("chat_state")
def test_metrics_count_answers_documents_decisions_and_requests(
    client, settings, demo_help_center, job_queue
):
    from knowledge.models import Chunk, Document
    from knowledge.tasks import document_index_job

    settings.KEEL_METRICS_TOKEN = "s3cret-token"
    waiting = Document.objects.first()
    document_index_job.defer(document_id=waiting.pk)  # a job waiting for a worker
    handoffs_before = REGISTRY.get_sample_value("keel_handoffs_total", {"reason": "asked"})
    key = demo_help_center.workspace.public_key
    async_to_sync(one_question)(key, "How long does delivery to Canada take?")
    async_to_sync(one_question)(key, "Please call me at +1 (555) 010-2222 about my order")
    client.get(reverse("health"))

    body = client.get(
        reverse("metrics"), headers={"Authorization": "Bearer s3cret-token"}
    ).content.decode()

    assert 'keel_answers_total{outcome="answered"}' in body
    assert "keel_answer_seconds_bucket" in body and "keel_first_words_seconds_count" in body
    assert 'keel_decisions_total{kind="redaction"}' in body
    assert 'keel_documents{status="ready"} 20.0' in body
    assert f"keel_chunks {float(Chunk.objects.count())}" in body
    assert 'keel_jobs{queue="ingestion",status="todo"} 1.0' in body
    assert 'keel_http_requests_total{method="GET",status="200"}' in body
    async_to_sync(handed_to_a_person)(key)
    handoffs = REGISTRY.get_sample_value("keel_handoffs_total", {"reason": "asked"})
    assert handoffs == (handoffs_before or 0) + 1
    assert "010-2222" not in body  # counts only, never content


async def handed_to_a_person(public_key: str) -> None:
    chat = ChatClient(public_key)
    assert await chat.connect()
    await chat.hello()
    await chat.send({"type": "handoff"})
    await chat.until('id="ticket-email"')
    await chat.close()
