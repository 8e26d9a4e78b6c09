"""The bench's customer: a message sent through a real Keel server's customer socket is
over only when Keel's records say so, and a message Keel did not take is read as such."""

from django.conf import settings

from assistant.models import Message
from bench.customer_turns import messages_send, site_knowledge_base, turn_read
from bench.doc2dial import SITE, Page, pages_ingest

PAGE = Page(
    doc_id="returns#1",
    title="Returns and refunds",
    text="\n\nReturning a bike \nYou can return a bike within 30 days of delivery for a "
    "full refund. Pack it in its original box and print the prepaid label. \n",
)


def test_a_message_is_sent_once_its_answer_is_finished_or_read_as_not_taken(keel_server):
    knowledge_base = site_knowledge_base(
        workspace_slug="customer-turns-test", workspace_name="Trailhead Cycles", site=SITE
    )
    pages_ingest(knowledge_base=knowledge_base, pages=[PAGE])
    too_long = "a" * (settings.KEEL_MAX_MESSAGE_CHARS + 1)

    sent = {
        message["id"]: messages_send(
            address=keel_server.removeprefix("http://"),
            public_key=knowledge_base.workspace.public_key,
            origin=SITE,
            messages=[message],
        )[message["id"]]
        for message in (
            {"id": "too-long", "text": too_long},
            {"id": "returns", "text": "How many days do I have to return my bike?"},
        )
    }

    # Read at once, as the last message of a run is before the server stops: the reply
    # the acknowledgement came before must already be finished.
    returns = turn_read(sent=sent["returns"])
    assert not sent["returns"].notice and not sent["returns"].timed_out
    assert [reply.outcome for reply in returns.replies] == [Message.Outcome.ANSWERED]
    assert "30 days" in returns.answer_text
    rejected = turn_read(sent=sent["too-long"])
    assert sent["too-long"].notice and rejected.question is None
    assert rejected.answer_text == sent["too-long"].notice
