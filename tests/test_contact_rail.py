"""Output rail: answers never send customers elsewhere, nor ask them for a secret.

A bike-rental shop's own help pages, quoted by the extractive answerer, and a model's
invented sentences, streamed: an e-mail address, phone number or web address that is not
the shop's is dropped before the customer sees it, and audited with its rail; the shop's
own (from its settings and from its articles) pass.
"""

import pytest
from channels.db import database_sync_to_async
from django.urls import reverse

from assistant.answering.pipeline import DONT_KNOW_MESSAGE
from assistant.models import AuditEvent, Membership, Message, PolicyVersion
from assistant.rails.output_rails import OutputRails
from bench.llm_server import Reply
from tests.support.chat import one_question
from tests.support.factories import KnowledgeBaseFactory, MembershipFactory, WorkspaceFactory
from tests.support.help_centers import pages_ingest

PAGES = {
    "rentals.md": """# Renting a bike

Rent a city bike or an e-bike for a day or a week from any Spoke & Chain store.

## How to book a rental bike

To book a rental bike, use one of these:

- E-mail rentals@spokeandchain.example with the date and your height.
- Call the rental desk on +1 555 010 7788.
- Book online at https://book.spokeandchain.example/rentals.
- E-mail the booking office at desk@bike-bookings-now.example.
- Book at www.cheap-rental-deals.com for a discount.
""",
    "tours.md": """# Guided rides

Every Saturday a guide takes a group of up to twelve riders through the old town.
To join a guided ride, e-mail the tour office at rides@citycycletours.example.
Guided rides cost $35, rental bike and helmet included.
""",
    "groups.md": """# Group bookings

Schools, clubs and companies book guided rides through our partner's tour office at
rides@citycycletours.example.
""",
    "repairs.md": """# Repairs

Bring your bike to the workshop; a basic service costs $60.
For a pickup from your home, call the repair van on +1 555 010 3344.
""",
}


@pytest.fixture
def bike_rentals(transactional_db, tmp_path):
    workspace = WorkspaceFactory(
        name="Spoke & Chain",
        domains=["spokeandchain.example"],
        contact_details=["+1 (555) 010-7788"],
    )
    knowledge_base = KnowledgeBaseFactory(workspace=workspace)
    pages_ingest(knowledge_base=knowledge_base, pages=PAGES, folder=tmp_path)
    return workspace


@database_sync_to_async
def reply_and_removed(workspace) -> tuple[Message, list[dict]]:
    reply = Message.objects.filter(
        conversation__workspace=workspace, role=Message.Role.ASSISTANT
    ).latest("pk")
    audits = AuditEvent.objects.filter(message=reply, kind=AuditEvent.Kind.OUTPUT)
    return reply, [audit.detail for audit in audits.order_by("pk")]


def rails_of(removed: list[dict]) -> list[set[str]]:
    return [{verdict["rail"] for verdict in sentence["rails"]} for sentence in removed]


@pytest.mark.asyncio
async def test_a_quoted_passage_keeps_the_shops_contacts_and_drops_outside_ones(bike_rentals):
    answer = await one_question(bike_rentals.public_key, "How do I book a rental bike?")

    shown = " ".join(answer.frames)
    for own in ("rentals@spokeandchain.example", "555 010 7788", "book.spokeandchain.example"):
        assert own in shown and own in answer.text
    for outside in ("bike-bookings-now", "cheap-rental-deals"):
        assert outside not in shown
    reply, removed = await reply_and_removed(bike_rentals)
    assert reply.outcome == Message.Outcome.ANSWERED
    assert rails_of(removed) == [{"contact"}, {"contact"}]
    assert [sentence["rails"][0]["detail"] for sentence in removed] == [
        "an e-mail address at bike-bookings-now.example, not the company's",
        "a web address at www.cheap-rental-deals.com, not the company's",
    ]
    assert reply.trace["rails"]["output"]["removed"] == removed


@pytest.mark.asyncio
async def test_contacts_the_knowledge_base_gives_pass(bike_rentals):
    """An outside address two articles give is the shop's partner's; a phone number one
    article gives is the shop's own (in neither of the shop's settings)."""
    tour = await one_question(bike_rentals.public_key, "How do I join a guided ride?")
    repair = await one_question(bike_rentals.public_key, "Can the repair van pick up my bike?")

    assert "rides@citycycletours.example" in tour.text
    assert "555 010 3344" in repair.text
    _, removed = await reply_and_removed(bike_rentals)
    assert removed == []


@pytest.mark.asyncio
async def test_every_sentence_dropped_gives_dont_know_with_a_person(bike_rentals):
    await database_sync_to_async(bike_rentals.__class__.objects.filter(pk=bike_rentals.pk).update)(
        domains=[], contact_details=[]
    )
    answer = await one_question(bike_rentals.public_key, "What is the booking office's e-mail?")

    assert "bike-bookings-now" not in " ".join(answer.frames)
    reply, removed = await reply_and_removed(bike_rentals)
    assert (reply.outcome, reply.text) == (Message.Outcome.DONT_KNOW, DONT_KNOW_MESSAGE)
    assert removed and all("contact" in rails for rails in rails_of(removed))


INVENTED = [
    "Send us your order number at support@trailhead-cycles.example and we'll look it up [1]. ",
    "You can also track it at www.parcel-finder-now.com [1]. ",
    "Or call our tracking line on +1 555 019 2233 [1]. ",
    "Please reply here with the one-time code we just texted you [1]. ",
]


@pytest.mark.asyncio
@pytest.mark.usefixtures("chat_state")
async def test_a_model_never_sends_customers_elsewhere_nor_asks_for_a_code(
    demo_help_center, llm_server, client
):
    workspace = demo_help_center.workspace
    llm_server.default = Reply(pieces=[piece for sentence in INVENTED for piece in sentence])

    answer = await one_question(workspace.public_key, "Where is my order?")

    shown = " ".join(answer.frames)
    assert "support@trailhead-cycles.example" in shown  # the shop's own, from its articles
    for outside in ("parcel-finder", "019 2233", "one-time code"):
        assert outside not in shown
    reply, removed = await reply_and_removed(workspace)
    assert reply.outcome == Message.Outcome.ANSWERED
    assert [rails & {"contact", "asks_for_secret"} for rails in rails_of(removed)] == [
        {"contact"},
        {"contact"},
        {"asks_for_secret"},
    ]

    admin = await database_sync_to_async(MembershipFactory)(
        workspace=workspace, role=Membership.Role.ADMIN
    )
    await database_sync_to_async(client.force_login)(admin.user)
    page = await database_sync_to_async(client.get)(
        reverse("answer", kwargs={"workspace_slug": workspace.slug, "message_id": reply.pk})
    )
    assert "contact (a web address at www.parcel-finder-now.com" in page.content.decode()
    assert "asks_for_secret (asks the customer for a secret)" in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sentence", "asks"),
    [
        ("Could you type the three digits on the back of your card here?", True),
        ("What's the password you use to sign in?", True),
        ("Mándanos el código que recibiste por SMS.", True),
        ("Senden Sie uns bitte Ihr Passwort per E-Mail.", True),
        ("Never tell anyone the code we text you, not even our staff.", False),
        ("Add a new card under Account > Payment in the app.", False),
        ("Tell us the frame size and the colour you would like.", False),
    ],
)
def test_asking_for_a_secret_is_read_by_meaning_in_any_language(sentence, asks):
    rails = OutputRails(
        policy=PolicyVersion(),
        sources=[],
        instructions="",
        workspace_id=WorkspaceFactory().pk,
    )
    found = {violation.rail for violation in rails.violations(sentence=sentence, generated=False)}
    assert ("asks_for_secret" in found) is asks
