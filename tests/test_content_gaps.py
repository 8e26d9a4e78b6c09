"""Content gaps: the questions the knowledge base did not serve, grouped by meaning (real
embeddings); an article written from a group closes it, and its questions become test
cases that pass once the article is indexed."""

from datetime import timedelta
from io import StringIO

import pytest
from asgiref.sync import async_to_sync
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from assistant.answering import pipeline
from assistant.insights.gaps import GapQuestion, gap_clusters, gap_questions
from assistant.models import (
    AuditEvent,
    Conversation,
    EvalCase,
    EvalRun,
    Feedback,
    GapArticle,
    Handoff,
    Membership,
    Message,
)
from knowledge.models import Document
from knowledge.uploads import documents_upload
from tests.support.access import assert_admins_only
from tests.support.chat import visible_text
from tests.support.factories import MembershipFactory, WorkspaceFactory

SKATEBOARDS = ["Do you sell skateboards?", "Are skateboards available in your shop?",
               "do u have skate boards"]  # fmt: skip


@pytest.fixture
def knowledge_base(demo_help_center):
    """The admin fixtures' workspace is the demo help center's: questions get answers."""
    return demo_help_center


def page_text(response) -> str:
    return visible_text(response.content.decode())


def url(name: str, workspace) -> str:
    return reverse(name, args=[workspace.slug])


def exchange(workspace, question: str, *, outcome: str, sandbox=False, **conversation) -> Message:
    """A customer's question and the assistant's answer, as the pipeline stores them."""
    chat = Conversation.objects.create(
        workspace=workspace, visitor_key="v", sandbox=sandbox, **conversation
    )
    asked = Message.objects.create(conversation=chat, role=Message.Role.CUSTOMER, text=question)
    Message.objects.create(
        conversation=chat, role=Message.Role.ASSISTANT, text="…", outcome=outcome
    )
    return asked


def test_paraphrases_fall_in_one_group_and_other_topics_apart():
    groups = [
        ["Can I pay with cryptocurrency?", "Do you accept Bitcoin?",
         "is crypto accepted as payment"],
        SKATEBOARDS,
        ["What are your opening hours on Sunday?", "Are you open on sundays?",
         "when does the store open sunday"],
        ["Do you have a student discount?", "Is there a discount for students?"],
        ["Do you ship to Australia?", "Can I get delivery to Sydney?"],
        ["Can you fix a flat tyre while I wait?"],
        ["Where is my order 12345?"],
    ]  # fmt: skip
    now = timezone.now()
    questions = [
        GapQuestion(message_id=i, conversation_id=i, text=text, asked_at=now, reason="dont_know")
        for i, text in enumerate(text for group in groups for text in group)
    ]

    clusters = gap_clusters(questions=questions)

    found = sorted(sorted(q.text for q in cluster.questions) for cluster in clusters)
    assert found == sorted(sorted(group) for group in groups)
    assert [cluster.size for cluster in clusters] == sorted(map(len, groups), reverse=True)
    assert clusters[0].reasons == {"dont_know": 3}


def test_gap_questions_are_those_the_knowledge_base_did_not_serve(db):
    workspace = WorkspaceFactory()
    dont_know = exchange(workspace, "Do you sell skateboards?", outcome="dont_know")
    follow_up = Message.objects.create(
        conversation=dont_know.conversation, role="customer", text="And scooters?"
    )
    Message.objects.create(conversation=follow_up.conversation, role="assistant",
                           text="Yes [1].", outcome="answered")  # fmt: skip
    rated_down = exchange(workspace, "How long is the warranty?", outcome="answered")
    Feedback.objects.create(message=rated_down.conversation.messages.last(), rating="down")
    unsure = exchange(workspace, "Can I pay in instalments?", outcome="handed_off")
    Handoff.objects.create(conversation=unsure.conversation, reason="low_confidence", summary="")
    # Not gaps: a liked answer, a person asked for, a sandbox, another workspace, too old,
    # and a question an article already answers.
    liked = exchange(workspace, "Where is my order?", outcome="answered")
    Feedback.objects.create(message=liked.conversation.messages.last(), rating="up")
    asked = exchange(workspace, "A person, please", outcome="handed_off")
    Handoff.objects.create(conversation=asked.conversation, reason="asked", summary="")
    exchange(workspace, "Sandbox skateboards?", outcome="dont_know", sandbox=True)
    exchange(WorkspaceFactory(), "Their skateboards?", outcome="dont_know")
    old = exchange(workspace, "Old skateboards?", outcome="dont_know")
    Message.objects.filter(conversation=old.conversation).update(
        created_at=timezone.now() - timedelta(days=40)
    )
    answered = exchange(workspace, "Do you sell unicycles?", outcome="dont_know")
    GapArticle.objects.create(workspace=workspace, title="Unicycles").questions.add(answered)

    found = gap_questions(workspace_id=workspace.pk, since=timezone.now() - timedelta(days=30))

    assert [(q.message_id, q.reason) for q in found] == [
        (unsure.pk, "low_confidence"),
        (rated_down.pk, "rated_down"),
        (dont_know.pk, "dont_know"),
    ]


def test_an_article_closes_the_gap_and_its_questions_become_passing_test_cases(
    admin_client, admin_membership, demo_help_center, job_queue
):
    workspace = admin_membership.workspace
    asked = []
    for question in SKATEBOARDS:
        chat = Conversation.objects.create(workspace=workspace, visitor_key=question)
        async_to_sync(pipeline.answer)(conversation=chat, text=question)
        asked.append(chat.messages.get(role="customer"))
    assert set(Message.objects.filter(role="assistant").values_list("outcome", flat=True)) == {
        "dont_know"
    }
    agent = MembershipFactory(workspace=workspace, role=Membership.Role.AGENT).user
    Message.objects.create(
        conversation=asked[0].conversation, role="agent", author=agent,
        text="We sell bicycles only, no skateboards or scooters. Write to jane.doe@example.com",
    )  # fmt: skip

    page = page_text(admin_client.get(url("gaps", workspace)))
    assert "3 questions in 1 group." in page and "3 questions, last asked" in page
    assert "3 did not know" in page
    link = (
        admin_client.get(url("gaps", workspace))
        .content.decode()
        .split('class="button button--primary" href="')[1]
        .split('"')[0]
    )
    page = admin_client.get(link.replace("&amp;", "&"))
    form = page.context["form"]
    assert form.initial["title"] in SKATEBOARDS
    body = form.initial["body"]
    assert body.startswith("We sell bicycles only, no skateboards or scooters.")
    assert "jane.doe@example.com" not in body and "[EMAIL_1]" in body
    assert "Written from 1 agent reply" in page_text(page)

    response = admin_client.post(
        url("gap_article_publish", workspace),
        {
            "title": "Skateboards",
            "body": "Trailhead Cycles does not sell skateboards. We sell bicycles only: "
            "road, gravel, city and e-bikes, with their parts.",
            "knowledge_base": demo_help_center.pk,
            "as_test_cases": "on",
            "questions": [q.pk for q in asked],
        },
    )
    assert response.url == url("gaps", workspace)
    job_queue()  # the worker indexes the article

    document = Document.objects.get(source="skateboards.md")
    assert document.status == Document.Status.READY
    article = GapArticle.objects.get()
    assert (article.document, article.author) == (document, admin_membership.user)
    assert set(article.questions.all()) == set(asked)
    assert "No gaps in this period" in page_text(admin_client.get(url("gaps", workspace)))
    cases = EvalCase.objects.filter(workspace=workspace)
    assert sorted(c.question for c in cases) == sorted(SKATEBOARDS)
    assert {tuple(c.expected_documents) for c in cases} == {("skateboards.md",)}
    [audit] = AuditEvent.objects.filter(kind=AuditEvent.Kind.GAP_ARTICLE)
    assert audit.detail == {"document": "skateboards.md", "knowledge_base": "help-center",
                            "questions": 3, "test_cases": 3}  # fmt: skip

    # The gap stays closed: the cases pass against the knowledge base as it is now.
    call_command("evaluate", "--workspace", workspace.slug, "--suite", "golden", stdout=StringIO())
    run = EvalRun.objects.get()
    assert (run.metrics["cases"], run.metrics["passed"]) == (3, 3)


def test_an_article_the_knowledge_base_already_has_is_refused_and_nothing_is_stored(
    admin_client, admin_membership, demo_help_center, job_queue
):
    workspace = admin_membership.workspace
    question = exchange(workspace, "Do you sell skateboards?", outcome="dont_know")
    fields = {"title": "Skateboards", "body": "No skateboards.",
              "knowledge_base": demo_help_center.pk, "as_test_cases": "on",
              "questions": [question.pk]}  # fmt: skip
    admin_client.post(url("gap_article_publish", workspace), fields)
    job_queue()

    again = admin_client.post(url("gap_article_publish", workspace), fields)

    assert again.status_code == 400
    assert "Same content as 'skateboards.md', already in this knowledge base." in page_text(again)
    assert GapArticle.objects.count() == 1 and EvalCase.objects.count() == 1


def test_an_article_never_replaces_a_document_that_has_its_name(
    admin_client, admin_membership, demo_help_center, job_queue
):
    workspace = admin_membership.workspace
    sections = "".join(
        f"## Case {n}\n\nBikes bought in store {n} go back there.\n\n" for n in range(5)
    )
    documents_upload(
        knowledge_base=demo_help_center,
        files=[SimpleUploadedFile("returns.md", f"# Returns\n\n{sections}".encode())],
    )
    job_queue()
    theirs = Document.objects.get(source="returns.md")
    their_chunks, their_file = list(theirs.chunks.values_list("pk", "text")), theirs.file.name
    question = exchange(workspace, "Can I return a skateboard?", outcome="dont_know")

    response = admin_client.post(
        url("gap_article_publish", workspace),
        {
            "title": "Returns",
            "body": "We sell no skateboards, so none come back.",
            "knowledge_base": demo_help_center.pk,
            "as_test_cases": "on",
            "questions": [question.pk],
        },
        follow=True,
    )
    job_queue()

    assert "“Returns” is published as returns-2.md (returns.md is another document)" in (
        page_text(response)
    )
    theirs.refresh_from_db()
    assert (theirs.file.name, theirs.chunk_count) == (their_file, 5)
    assert list(theirs.chunks.values_list("pk", "text")) == their_chunks
    article = GapArticle.objects.get()
    assert article.document.source == "returns-2.md"
    assert article.document.chunks.get().text == "We sell no skateboards, so none come back."
    assert EvalCase.objects.get().expected_documents == ["returns-2.md"]
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.GAP_ARTICLE).detail["document"] == (
        "returns-2.md"
    )


def test_gap_pages_are_for_the_workspaces_admins_only(client, admin_membership):
    workspace = admin_membership.workspace
    ours = exchange(workspace, "Do you sell skateboards?", outcome="dont_know")
    theirs = exchange(WorkspaceFactory(), "Their question", outcome="dont_know")
    article = f"{url('gap_article', workspace)}?questions={ours.pk}"
    everything = [
        ("get", url("gaps", workspace)),
        ("get", article),
        ("post", url("gap_article_publish", workspace)),
    ]
    assert_admins_only(client, workspace, everything)

    client.force_login(admin_membership.user)
    assert client.get(f"{url('gap_article', workspace)}?questions={theirs.pk}").status_code == 404
    refused = client.post(
        url("gap_article_publish", workspace),
        {"title": "T", "body": "B", "knowledge_base": workspace.knowledge_bases.get().pk,
         "questions": [theirs.pk]},
    )  # fmt: skip
    assert refused.status_code == 400 and not GapArticle.objects.exists()


def test_questions_and_replies_are_shown_escaped(admin_client, admin_membership):
    workspace = admin_membership.workspace
    exchange(workspace, "<script>alert(1)</script> skateboards?", outcome="dont_know")

    page = admin_client.get(url("gaps", workspace)).content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; skateboards?" in page
