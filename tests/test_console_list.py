"""The console's list and canned replies, read and written as agents and admins do: who
the customer is, what they need, what is unread, the filters, and the canned-reply page."""

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from assistant.console.services import read_marker_update
from assistant.conversations.console_rows import Show, console_rows, customer_need, visitor_name
from assistant.models import AuditEvent, CannedReply, Conversation, Handoff, Membership
from tests.support.chat import visible_text
from tests.support.factories import (
    ConversationFactory,
    HandoffFactory,
    MembershipFactory,
    MessageFactory,
    WorkspaceFactory,
)


def test_a_visitor_has_a_stable_readable_name():
    name = visitor_name(key="browser-7f3a")
    assert re.fullmatch(r"Visitor \d{4}", name)
    assert visitor_name(key="browser-7f3a") == name != visitor_name(key="browser-7f3b")


def test_the_need_is_the_reason_and_the_last_question_that_says_something():
    handoff = Handoff(reason=Handoff.Reason.LOW_CONFIDENCE, summary="older · questions")
    long_question = (
        "My electricity meter shows a reading twice as high as last month although the flat "
        "was empty for three weeks while we travelled abroad"
    )
    need = customer_need(
        handoff=handoff,
        questions=["Hello?", long_question, "A person now please."],
    )
    assert need.startswith("The assistant was not sure: My electricity meter shows")
    assert need.endswith(" …") and len(need) <= 110
    # Shortened between words, never inside one.
    assert need.removesuffix(" …").split()[-1] in long_question.split()
    assert "A person now" not in need and "Hello" not in need

    assert (
        customer_need(handoff=handoff, questions=[])
        == "The assistant was not sure: older · questions"
    )
    assert customer_need(handoff=None, questions=["Hi", "Can I move my flight to Friday?"]) == (
        "Can I move my flight to Friday?"
    )


def test_the_list_by_filter_with_names_and_unread(db):
    workspace = WorkspaceFactory()
    agent = MembershipFactory(workspace=workspace, role=Membership.Role.AGENT).user
    colleague = MembershipFactory(workspace=workspace, role=Membership.Role.AGENT).user

    def conversation(state, *, question, **handoff):
        found = ConversationFactory(workspace=workspace, state=state)
        MessageFactory(conversation=found, text=question)
        if handoff is not None and state != Conversation.State.BOT:
            HandoffFactory(conversation=found, **handoff)
        return found

    waiting = conversation(
        Conversation.State.WAITING, question="Why was my card charged twice this month?"
    )
    ticket = conversation(
        Conversation.State.WAITING,
        question="Can you send the invoice for my annual plan?",
        customer_email="ana@example.com",
    )
    mine = conversation(
        Conversation.State.AGENT,
        question="My saddle arrived broken in the box.",
        claimed_by=agent,
        claimed_at=timezone.now(),
    )
    theirs = conversation(
        Conversation.State.AGENT,
        question="Is my seat on the later flight confirmed?",
        claimed_by=colleague,
        claimed_at=timezone.now(),
    )
    with_bot = conversation(Conversation.State.BOT, question="When do you open on Sunday?")
    ConversationFactory(workspace=workspace, sandbox=True, state=Conversation.State.WAITING)
    elsewhere = ConversationFactory(state=Conversation.State.WAITING)
    HandoffFactory(conversation=elsewhere)

    def listed(show, **more):
        return [
            row.conversation
            for row in console_rows(workspace=workspace, agent=agent, show=show, **more)
        ]

    assert listed(Show.WAITING) == [waiting, ticket]  # longest waiting first
    assert listed(Show.MINE) == [mine]
    assert listed(Show.TICKETS) == [ticket]
    assert set(listed(Show.ALL)) == {waiting, ticket, mine, theirs, with_bot}
    assert listed(Show.ALL, text="saddle") == [mine]

    rows = {
        row.conversation: row
        for row in console_rows(workspace=workspace, agent=agent, show=Show.ALL)
    }
    assert rows[ticket].name == "ana@example.com" and rows[ticket].ticket
    assert rows[waiting].name == visitor_name(key=waiting.visitor_key)
    assert rows[waiting].need == "Asked for a person: Why was my card charged twice this month?"
    assert rows[with_bot].need == "When do you open on Sunday?"
    assert rows[mine].unread == 1

    read_marker_update(agent=agent, conversation_id=mine.pk)
    assert console_rows(workspace=workspace, agent=agent, show=Show.MINE)[0].unread == 0
    MessageFactory(conversation=mine, text="Hello? Are you still there?")
    MessageFactory(conversation=mine, text="I can send a photo of the saddle.")
    assert console_rows(workspace=workspace, agent=agent, show=Show.MINE)[0].unread == 2
    # Read markers are per agent: the colleague has read nothing.
    assert console_rows(workspace=workspace, agent=colleague, show=Show.ALL)[0].unread >= 1


def test_the_conversation_page_marks_it_read_and_shows_the_customers_other_conversations(
    client, db
):
    workspace = WorkspaceFactory()
    agent = MembershipFactory(workspace=workspace, role=Membership.Role.AGENT).user
    earlier = ConversationFactory(
        workspace=workspace, visitor_key="browser-1", started_at=timezone.now() - timedelta(days=3)
    )
    current = ConversationFactory(workspace=workspace, visitor_key="browser-1")
    ConversationFactory(workspace=workspace, visitor_key="browser-2")
    MessageFactory(conversation=current, text="Where do I find my meter number?")
    client.force_login(agent)
    listed = client.get(reverse("console", args=[workspace.slug]) + "?show=all")
    assert "1 unread" in visible_text(listed.content.decode())

    page = client.get(reverse("console_conversation", args=[workspace.slug, current.pk]))

    html = page.content.decode()
    assert reverse("console_conversation", args=[workspace.slug, earlier.pk]) in html
    assert visitor_name(key="browser-1") in visible_text(html)
    listed = client.get(reverse("console", args=[workspace.slug]) + "?show=all")
    assert "unread" not in visible_text(listed.content.decode())


def test_canned_replies_are_kept_by_admins_used_by_agents_and_stay_in_their_workspace(client, db):
    workspace, other = WorkspaceFactory(), WorkspaceFactory()
    admin = MembershipFactory(workspace=workspace, role=Membership.Role.ADMIN).user
    agent = MembershipFactory(workspace=workspace, role=Membership.Role.AGENT).user
    theirs = CannedReply.objects.create(
        workspace=other, shortcut="refund", title="Theirs", body="Their refund text."
    )
    page = reverse("canned_replies", args=[workspace.slug])
    client.force_login(admin)

    added = client.post(
        page,
        {"shortcut": "/Refund", "title": "Refund window", "body": "Refunds take 5 working days."},
    )
    assert added.status_code == 302
    canned = CannedReply.objects.get(workspace=workspace)
    assert canned.shortcut == "refund"
    taken = client.post(page, {"shortcut": "refund", "title": "Again", "body": "Again."})
    assert (
        taken.status_code == 400 and "/refund is already a canned reply" in taken.content.decode()
    )
    bad = client.post(page, {"shortcut": "two words", "title": "Bad", "body": "Bad."})
    assert bad.status_code == 400 and "lower-case letters" in bad.content.decode()
    edit = reverse("canned_reply_edit", args=[workspace.slug, canned.pk])
    client.post(edit, {"shortcut": "refund", "title": "Refunds", "body": "Refunds take a week."})
    canned.refresh_from_db()
    assert canned.body == "Refunds take a week."
    assert (
        client.get(reverse("canned_reply_edit", args=[workspace.slug, theirs.pk])).status_code
        == 404
    )
    assert (
        client.post(reverse("canned_reply_delete", args=[workspace.slug, theirs.pk])).status_code
        == 404
    )

    client.force_login(agent)
    assert client.get(page).status_code == 403
    assert (
        client.post(reverse("canned_reply_delete", args=[workspace.slug, canned.pk])).status_code
        == 403
    )
    found = client.get(reverse("canned_replies_json", args=[workspace.slug]), {"q": "ref"}).json()
    assert found == {
        "replies": [{"shortcut": "refund", "title": "Refunds", "body": "Refunds take a week."}]
    }
    assert client.get(reverse("canned_replies_json", args=[other.slug])).status_code == 404

    client.force_login(admin)
    client.post(reverse("canned_reply_delete", args=[workspace.slug, canned.pk]))
    assert not CannedReply.objects.filter(workspace=workspace).exists()
    actions = AuditEvent.objects.filter(workspace=workspace, kind=AuditEvent.Kind.CANNED_REPLY)
    assert [event.actor for event in actions.order_by("pk")] == [admin] * 3
    assert [e.detail["action"] for e in actions.order_by("pk")] == ["created", "changed", "deleted"]
