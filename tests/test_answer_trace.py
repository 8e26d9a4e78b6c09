"""Staff see why the assistant answered as it did: the trace of an answer, as JSON."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from assistant.answering.pipeline import Spans
from assistant.models import Membership, Message
from tests.support.chat import one_question
from tests.support.factories import MembershipFactory, UserFactory, WorkspaceFactory


@database_sync_to_async
def fetch_trace(workspace, user):
    reply = Message.objects.get(conversation__workspace=workspace, role=Message.Role.ASSISTANT)
    client = Client()
    if user is not None:
        client.force_login(user)
    url = reverse("answer_trace", kwargs={"workspace_slug": workspace.slug, "message_id": reply.pk})
    return client.get(url)


@pytest.mark.asyncio
@pytest.mark.usefixtures("chat_state")
async def test_agents_export_an_answers_trace_and_no_one_else_can(demo_help_center):
    workspace = demo_help_center.workspace
    await one_question(workspace.public_key, "How long does delivery to Canada take?")
    agent = await database_sync_to_async(MembershipFactory)(
        workspace=workspace, role=Membership.Role.AGENT
    )
    outsider = await database_sync_to_async(
        lambda: MembershipFactory(workspace=WorkspaceFactory())
    )()

    trace = (await fetch_trace(workspace, agent.user)).json()

    assert trace["outcome"] == "answered" and trace["citations"]
    assert trace["search_query"] == "How long does delivery to Canada take?"
    retrieved = trace["retrieved"]
    assert len(retrieved) == 4 and all(hit["given_to_the_generator"] for hit in retrieved)
    assert {c["chunk_id"] for c in trace["citations"]} <= {hit["chunk_id"] for hit in retrieved}
    rails = trace["rails"]
    assert rails["input"]["injection"]["flagged"] is False and rails["input"]["refusal"] == ""
    assert rails["output"] == {"removed": [], "replaced": False}
    assert trace["policy"]["version"] is None  # nothing published: the defaults
    assert trace["generation"]["backend"] == "extractive"
    assert trace["timings"]["total_ms"] >= trace["timings"]["retrieval_ms"]
    stages = trace["stages_ms"]  # where the time went, each stage once
    assert stages["store_and_retrieval"] >= trace["timings"]["retrieval_ms"]  # side by side
    assert min(stages.values()) >= 0 and sum(stages.values()) <= trace["timings"]["total_ms"]

    assert (await fetch_trace(workspace, outsider.user)).status_code == 404
    assert (await fetch_trace(workspace, None)).status_code == 302  # to the login page
    stranger = await database_sync_to_async(UserFactory)()
    assert (await fetch_trace(workspace, stranger)).status_code == 404


def test_stages_rounded_one_by_one_never_add_up_to_more_than_the_total():
    # 0.6 ms twice: each rounds to 1 ms on its own, the whole 1.2 ms to 1 ms.
    spans = Spans(started=0.0, stages={"a": (0.0, 0.0006), "b": (0.0006, 0.0012)})
    assert spans.stages_ms() == {"a": 1, "b": 0}
