"""Every asked fact in the answer: when the sentence chosen names a fee, a deadline or a
period without stating it, the retrieved passage that states it for the same thing (a
fee list's table row, often another page) is quoted after it, cited. Own small help
center (a bike shop), real ingest, search and websocket."""

import re

import pytest
from channels.db import database_sync_to_async

from assistant.answering.answer_completion import completing_passages
from assistant.answering.extractive import MAX_WORDS, extractive_answer
from assistant.models import Citation
from knowledge.search import chunk_search
from tests.support.chat import one_question
from tests.support.commands import ingest
from tests.support.factories import KnowledgeBaseFactory
from tests.support.help_centers import answer_from_pages, pages_ingest

RETURNS = """# Returning a bike

You can return a bike you bought from us within 30 days of delivery.
Bikes must come back with their original pedals, reflectors and manual.
A restocking fee applies to returned bikes that have been ridden outdoors (see the fee list).
Bikes that were never ridden are taken back without a restocking fee.
"""
FEES = """# Fee list

Effective 1 March 2025.

| Fee | Amount | When it applies |
|---|---|---|
| Restocking fee | $25 | A returned bike that has been ridden outdoors |
| Late rental return | $15 per day | A rental bike brought back after closing time |
| Workshop assembly | $40 | A boxed bike we assemble for you |
| Lost rental lock | $30 | A rental lock that is not brought back |
| Late payment fee | $12 | A workshop invoice paid after 14 days |
"""
FEES_2024 = """# Fee list

Effective 1 March 2024.

| Fee | Amount | When it applies |
|---|---|---|
| Restocking fee | $20 | A returned bike that has been ridden outdoors |
| Late rental return | $10 per day | A rental bike brought back after closing time |
| Workshop assembly | $35 | A boxed bike we assemble for you |
| Lost rental lock | $25 | A rental lock that is not brought back |
| Late payment fee | $8 | A workshop invoice paid after 14 days |
"""
RENTALS = """# Renting a bike

Day rentals start when our shop opens and the bike is due back by closing time.
Every rental bike comes with a lock and a helmet in your size.
Rental bikes brought back late are charged for each extra day (see the fee list).
"""
REPAIRS = """# Paying for repairs

Repairs are paid when you collect your bike from the workshop.
We send the invoice by email the day the repair is finished.
If you pay after the due date, a late payment fee is added to your account.
"""
ASSEMBLY = """# Workshop assembly

Bikes delivered in a box can be assembled by our workshop for $40, ready to ride.
Assembly takes two working days from the day you book it.
"""


RESTOCKING = "How do I return a bike I have ridden, and do I pay a restocking fee?"


@pytest.mark.asyncio
@pytest.mark.usefixtures("chat_state")
async def test_a_fee_the_page_only_names_is_stated_from_the_fee_list(tmp_path, transactional_db):
    knowledge_base = await database_sync_to_async(KnowledgeBaseFactory)()
    for name, text in {"returns.md": RETURNS, "fees.md": FEES, "rentals.md": RENTALS}.items():
        (tmp_path / name).write_text(text)
    await database_sync_to_async(ingest)(tmp_path, knowledge_base)

    answer = await one_question(knowledge_base.workspace.public_key, RESTOCKING)

    assert "A restocking fee applies to returned bikes" in answer.text
    assert "Restocking fee — Amount: $25" in answer.text
    assert not {"$15", "$40", "$30", "$12"} & set(answer.text.split())
    cited = await database_sync_to_async(
        lambda: set(Citation.objects.values_list("document_title", flat=True))
    )()
    assert cited == {"Returning a bike", "Fee list"}


@pytest.mark.django_db
def test_the_fee_comes_after_the_sentence_it_completes(tmp_path, knowledge_base):
    answer = answer_from_pages(
        tmp_path, knowledge_base, RESTOCKING, **{"returns.md": RETURNS, "fees.md": FEES}
    )

    named = answer.index("A restocking fee applies to returned bikes")
    stated = answer.index("Restocking fee — Amount: $25")
    assert named < stated


@pytest.mark.django_db
def test_only_the_newest_fee_list_completes_the_answer(tmp_path, knowledge_base):
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        RESTOCKING,
        **{"returns.md": RETURNS, "fees.md": FEES, "fees-2024.md": FEES_2024},
    )

    assert "$25" in answer
    assert "$20" not in answer


@pytest.mark.django_db
def test_a_charge_the_answer_names_without_its_amount_is_completed(tmp_path, knowledge_base):
    """ "What happens if…late?" names no specific thing: the charge the chosen sentence
    names ("a late payment fee") is what the figure must be of."""
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        "What happens if my payment is late?",
        **{"repairs.md": REPAIRS, "fees.md": FEES, "rentals.md": RENTALS},
    )

    assert "a late payment fee is added to your account" in answer
    assert "Late payment fee — Amount: $12" in answer
    assert "$15" not in answer and "$25" not in answer


@pytest.mark.django_db
def test_nothing_is_added_when_the_sentence_chosen_states_the_fact(tmp_path, knowledge_base):
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        "How much does workshop assembly of a boxed bike cost?",
        **{"assembly.md": ASSEMBLY, "fees.md": FEES},
    )

    assert answer == (
        "Bikes delivered in a box can be assembled by our workshop for $40, ready to ride [1]."
    )


@pytest.mark.django_db
def test_no_amount_of_another_thing_is_added(tmp_path, knowledge_base):
    """The fee list states no restocking fee: its other fees are not this one."""
    fees = "\n".join(line for line in FEES.splitlines() if "Restocking" not in line)
    answer = answer_from_pages(
        tmp_path, knowledge_base, RESTOCKING, **{"returns.md": RETURNS, "fees.md": fees}
    )

    assert "A restocking fee applies to returned bikes" in answer
    assert "$" not in answer


@pytest.mark.django_db
def test_the_part_asking_a_fee_is_searched_alone_for_the_page_stating_it(tmp_path, knowledge_base):
    """On a large help center the question's own passages are all about returning; here
    they are cut to the best one. The part that asks the fee, searched alone, finds the
    fee list."""
    for name, text in {"returns.md": RETURNS, "fees.md": FEES, "rentals.md": RENTALS}.items():
        (tmp_path / name).write_text(text)
    ingest(tmp_path, knowledge_base)
    hits = chunk_search(knowledge_bases=[knowledge_base], query=RESTOCKING, k=1)
    assert [hit.document_title for hit in hits] == ["Returning a bike"]

    found = completing_passages(query=RESTOCKING, knowledge_bases=[knowledge_base], hits=hits)
    answer = extractive_answer(question=RESTOCKING, sources=[*hits, *found], max_words=MAX_WORDS)

    assert "Fee list" in {hit.document_title for hit in found}
    assert "A returned bike that has been ridden outdoors [2]." in answer
    assert "Restocking fee — Amount: $25" in answer


AIRLINE = {
    "upgrades.md": """# Upgrading your fare

You can upgrade a Light fare to a Flex fare in Manage booking until 24 hours before departure.
When you upgrade to Flex, you keep the seat you chose with your Light fare.
An upgrade from Light to Flex costs $45 per flight.
""",
    "payments.md": """# Paying for a booking

You pay the whole price of a booking when you confirm it, by card or PayPal.
Card payments are charged in the currency of the country you fly from.
Instalments are not available on bookings made less than 30 days before departure.
""",
    "baggage.md": """# Checked bags

Light fares include a cabin bag only; a checked bag can be added for $30 per flight.
Flex fares include one checked bag of up to 23 kg.
""",
    "fares.md": """# Our fares

Light fares are our lowest fares, with a cabin bag and a seat chosen at random.
Flex fares add a checked bag, a free seat choice and free changes before departure.
""",
    "seats.md": """# Choosing a seat

Seats can be chosen when you book, or later in Manage booking.
Extra legroom seats cost from $25 per flight.
""",
}
UPGRADE = "I booked a Light fare. If I upgrade to Flex, do I keep my seat, and what will I pay?"


@pytest.mark.django_db
def test_an_ask_naming_no_thing_is_not_searched_alone(tmp_path, knowledge_base):
    """'What will I pay?' names nothing: it asks about the upgrade the question is about,
    not about paying in general. Searched alone, it brought a page the question does not
    touch (the payments page) to either backend; the question's own search answers it."""
    pages_ingest(knowledge_base=knowledge_base, pages=AIRLINE, folder=tmp_path)
    # On a large help center the question's own passages are all about fares.
    hits = chunk_search(knowledge_bases=[knowledge_base], query=UPGRADE, k=2)

    found = completing_passages(query=UPGRADE, knowledge_bases=[knowledge_base], hits=hits)
    sources = [*hits, *found]
    answer = extractive_answer(question=UPGRADE, sources=sources, max_words=MAX_WORDS)

    cited = {sources[int(number) - 1].document_title for number in re.findall(r"\[(\d+)\]", answer)}
    assert "Paying for a booking" not in {hit.document_title for hit in found} | cited
    assert "you keep the seat you chose" in answer
    assert "$45 per flight" in answer
