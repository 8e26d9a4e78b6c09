"""A passage on the question's topic that does not answer it is no answer: the customer
gets "I don't know" and the offer of a person, through the real socket, pipeline, search
and embeddings, with either backend; a question the help center answers still gets it."""

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from assistant.answering.pipeline import DONT_KNOW_MESSAGE
from assistant.models import Message, Workspace
from bench.llm_server import Reply
from tests.support.chat import one_question
from tests.support.factories import KnowledgeBaseFactory, WorkspaceFactory
from tests.support.help_centers import pages_ingest

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("chat_state")]

PAGES = {
    "gift-cards.md": """# Gift cards

Gift cards are sold in our bakeries and in the online shop, from 10 to 200 euros.
A gift card is valid for three years from the day it was bought.
You can check a gift card's balance on your receipt or by asking at the counter.
Gift cards can be used for bread, pastries and coffee in every Crumb & Co bakery.
""",
    "opening-hours.md": """# Opening hours

Our bakeries open at 7 in the morning and close at 7 in the evening, Monday to Saturday.
On Sundays we open at 8 and close at 1 in the afternoon.
""",
    "delivery.md": """# Delivery

We deliver cakes and bread boxes within the city for a fee of 5 euros.
Orders placed before noon are delivered the same afternoon.
""",
    "payment.md": """# Paying in our bakeries

We take cash, debit and credit cards, and contactless payment with a phone or a watch.
Orders in the online shop are paid by card when you order.
""",
    "allergens.md": """# Allergens

Every bread and pastry has a label listing the allergens it contains.
Our kitchens handle nuts, sesame and gluten, so traces can be in any product.
""",
    "custom-cakes.md": """# Cakes made to order

Birthday and wedding cakes are made to order: ask at least five days ahead.
A cake for up to 20 people costs from 45 euros; we confirm the price when you order.
""",
}
# Close to the pages on cakes and allergens, but about a thing no page covers.
NEAR_MISS = "Are your cakes halal certified?"
# On a page's subject (allergens, the bakeries), each naming a thing no page has: a
# product, a town. The passages' words and closeness alone judged both answerable.
NAMED_NEAR_MISSES = [
    "Do you sell gluten-free sourdough?",
    "Do you have a bakery in Antwerp?",
    # The logistic alone judged it answerable (0.46): the cakes page is close in all
    # its other words.
    "Can I order a vegan birthday cake?",
]
# Answered by a page in other words than the page's own ("spend", "given"; "shops", "shut").
PARAPHRASES = [
    ("Until when can I still spend a gift card I was given?", "three years"),
    ("What time do your shops shut on Sunday?", "1 in the afternoon"),
]


BIKE_SHOP = {
    "repairs.md": """# Repairs

Our workshop services bikes of any brand.
A standard service costs 60 euros and takes two working days.
Puncture repairs are done while you wait, for 12 euros.
""",
    "rentals.md": """# Renting a bike

City bikes rent for 15 euros a day and e-bikes for 35 euros a day.
A helmet and a lock come with every rental.
Bring an ID card; we keep a deposit of 100 euros until the bike is back.
""",
    "returns.md": """# Returns

Unused parts and accessories can be returned within 30 days with the receipt.
Bikes can be returned within 14 days if they have not been ridden outdoors.
""",
    "delivery.md": """# Delivery

We deliver bikes fully assembled within 20 km of the shop for 25 euros.
Parts and accessories ship by post anywhere in the Netherlands, free above 50 euros.
""",
    "warranty.md": """# Warranty

Every new bike comes with a two-year warranty on the frame and parts.
E-bike batteries are covered for two years or 500 charge cycles.
Wear parts such as tyres, chains and brake pads are not covered.
""",
}
# Answered by one sentence, in other words than the page's ("electric bike", "rent").
BIKE_PARAPHRASES = [
    ("How much is a day on an electric bike?", "35 euros"),
    ("What is the deposit when I rent a bike?", "100 euros"),
]

# The shop sells its own e-bike in one model, the Voltra 9; nothing says a word of a 10.
E_BIKE_SHOP = {
    **BIKE_SHOP,
    "voltra.md": """# The Voltra 9

The Voltra 9 is our own e-bike, sold in every shop for 2400 euros.
Its battery takes a rider about 90 km on one charge and recharges in four hours.
The Voltra 9 comes in three frame sizes, in black or in sand.
""",
}
# Each about a page's subject, each asking for what it does not state: a model it never
# names, a part it never mentions, a kind of bike.
E_BIKE_NEAR_MISSES = [
    "When will the Voltra 10 be in the shops, and what will it cost?",
    "Does the Voltra 9 have a built-in alarm?",
    # A kind of bike no page names, next to the rentals page that answers in its other
    # words: the logistic alone judged it answerable (0.31).
    "Do you rent out cargo bikes?",
]

THIS_YEAR = timezone.localdate().year
# The shop's prices, dated this year; a discount for club members, none for anyone else;
# sizes for kids; a dynamo named only for the lights.
PRICED_BIKE_SHOP = {
    **E_BIKE_SHOP,
    "prices.md": f"""# Prices

Prices as of 1 March {THIS_YEAR}.
City bikes cost 450 euros, e-bikes 1900 euros and kids' bikes 220 euros.
Members of our riding club get a 10 % discount on parts and servicing.
""",
    "sizes.md": """# Bike sizes

Adult frames come in sizes S, M and L, for riders from 155 to 195 cm tall.
Kids' bikes come in 16 and 20 inch wheel sizes, for riders from about 4 to 9 years old.
""",
    "lights.md": """# Lights and reflectors

Our city models have lights powered by a hub dynamo.
Reflectors on the wheels and pedals are fitted as the law requires.
""",
}
# A bank that announces next year's fee.
BANK = {
    "fees.md": f"""# Account fees

The current account costs 3 euros a month, cards included.
From 1 January {THIS_YEAR + 1} the monthly account fee rises to 4 euros.
""",
    "cards.md": """# Cards

A lost card is blocked as soon as you report it in the app, and a new one arrives in five
working days.
""",
}


def help_center(*, name: str, pages: dict[str, str], folder) -> Workspace:
    knowledge_base = KnowledgeBaseFactory(workspace=WorkspaceFactory(name=name))
    pages_ingest(knowledge_base=knowledge_base, pages=pages, folder=folder)
    return knowledge_base.workspace


@pytest.fixture
def bike_shop(transactional_db, tmp_path):
    return help_center(name="Spoke & Chain", pages=BIKE_SHOP, folder=tmp_path)


@pytest.fixture
def e_bike_shop(transactional_db, tmp_path):
    return help_center(name="Voltra Cycles", pages=E_BIKE_SHOP, folder=tmp_path)


@pytest.fixture
def priced_bike_shop(transactional_db, tmp_path):
    return help_center(name="Pedal Works", pages=PRICED_BIKE_SHOP, folder=tmp_path)


@pytest.fixture
def bank(transactional_db, tmp_path):
    return help_center(name="Harbour Bank", pages=BANK, folder=tmp_path)


@pytest.fixture
def bakery(transactional_db, tmp_path):
    return help_center(name="Crumb & Co", pages=PAGES, folder=tmp_path)


@database_sync_to_async
def last_answer(workspace) -> Message:
    return Message.objects.filter(
        conversation__workspace=workspace, role=Message.Role.ASSISTANT
    ).latest("pk")


async def test_a_near_miss_gets_dont_know_and_a_person_with_the_judgement_in_the_trace(bakery):
    answer = await one_question(bakery.public_key, NEAR_MISS)

    reply = await last_answer(bakery)
    assert reply.outcome == Message.Outcome.DONT_KNOW
    assert reply.text == DONT_KNOW_MESSAGE
    assert "talk to a person" in answer.text
    judged = reply.trace["answerability"]
    assert judged["score"] < judged["threshold"]
    assert set(judged["features"]) == {
        "sentence",
        "coverage",
        "margin",
        "absent",
        "unknown",
    }
    assert (
        reply.trace["decision"]["why"] == "the passages on the subject were judged not to answer it"
    )


async def test_a_question_the_page_answers_is_still_answered(bakery):
    answer = await one_question(bakery.public_key, "How long is a gift card valid?")

    reply = await last_answer(bakery)
    assert reply.outcome == Message.Outcome.ANSWERED
    assert "three years" in answer.text
    judged = reply.trace["answerability"]
    assert judged["score"] >= judged["threshold"]


@pytest.mark.parametrize("question", NAMED_NEAR_MISSES)
async def test_a_question_naming_what_no_page_has_gets_dont_know_and_a_person(bakery, question):
    answer = await one_question(bakery.public_key, question)

    reply = await last_answer(bakery)
    assert reply.outcome == Message.Outcome.DONT_KNOW
    assert "talk to a person" in answer.text
    assert (
        reply.trace["decision"]["why"] == "the passages on the subject were judged not to answer it"
    )
    assert reply.trace["answerability"]["features"]["unknown"] > 0


@pytest.mark.parametrize("question", NAMED_NEAR_MISSES)
async def test_with_a_model_a_question_naming_what_no_page_has_is_not_sent_to_it(
    bakery, llm_server, question
):
    llm_server.default = Reply(pieces=["Yes, we do [1]."])

    answer = await one_question(bakery.public_key, question)

    assert (await last_answer(bakery)).outcome == Message.Outcome.DONT_KNOW
    assert "talk to a person" in answer.text
    assert llm_server.requests == []


@pytest.mark.parametrize(("question", "fact"), PARAPHRASES)
async def test_a_question_in_other_words_than_the_page_is_still_answered(bakery, question, fact):
    answer = await one_question(bakery.public_key, question)

    reply = await last_answer(bakery)
    assert reply.outcome == Message.Outcome.ANSWERED
    assert fact in answer.text


async def test_with_a_model_a_near_miss_is_not_sent_to_it(bakery, llm_server):
    llm_server.default = Reply(pieces=["Yes, all of them are [1]."])

    await one_question(bakery.public_key, NEAR_MISS)

    assert (await last_answer(bakery)).outcome == Message.Outcome.DONT_KNOW
    assert llm_server.requests == []


async def test_with_a_model_an_answerable_question_is_sent_to_it(bakery, llm_server):
    llm_server.default = Reply(pieces=["A gift card is valid for three years [1]."])

    await one_question(bakery.public_key, "How long is a gift card valid?")

    assert (await last_answer(bakery)).outcome == Message.Outcome.ANSWERED
    assert len(llm_server.requests) == 1


@pytest.mark.parametrize(("question", "fact"), BIKE_PARAPHRASES)
async def test_a_question_one_sentence_answers_in_other_words_is_still_answered(
    bike_shop, question, fact
):
    answer = await one_question(bike_shop.public_key, question)

    reply = await last_answer(bike_shop)
    assert reply.outcome == Message.Outcome.ANSWERED
    assert fact in answer.text


@pytest.mark.parametrize("question", E_BIKE_NEAR_MISSES)
async def test_a_model_or_a_part_no_page_states_gets_dont_know_and_a_person(e_bike_shop, question):
    answer = await one_question(e_bike_shop.public_key, question)

    reply = await last_answer(e_bike_shop)
    assert reply.outcome == Message.Outcome.DONT_KNOW
    assert "talk to a person" in answer.text
    assert "2400" not in answer.text


async def test_the_model_asked_about_is_named_in_the_trace(e_bike_shop):
    await one_question(e_bike_shop.public_key, E_BIKE_NEAR_MISSES[0])

    judged = (await last_answer(e_bike_shop)).trace["answerability"]
    assert judged["unstated"] == ["voltra 10"]
    assert judged["score"] == 0


async def test_the_model_the_pages_state_is_answered_in_other_words(e_bike_shop):
    answer = await one_question(
        e_bike_shop.public_key, "How far can I ride a Voltra 9 before the battery is empty?"
    )

    reply = await last_answer(e_bike_shop)
    assert reply.outcome == Message.Outcome.ANSWERED
    assert "90 km" in answer.text
    assert reply.trace["answerability"]["unstated"] == []


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        # A town the pages never name, in the sentence that only sets the scene.
        ("I'm visiting Maastricht next week. How much is a day on an e-bike?", "35 euros"),
        # The same, in a lead-in of the sentence that asks.
        ("Visiting Maastricht next week: how much is a day on an e-bike?", "35 euros"),
        # A word no page holds, but misspelt from one a passage does.
        ("How much is the depossit when I rent a bike?", "100 euros"),
    ],
)
async def test_a_word_no_page_holds_outside_what_is_asked_is_still_answered(
    bike_shop, question, fact
):
    answer = await one_question(bike_shop.public_key, question)

    reply = await last_answer(bike_shop)
    assert reply.outcome == Message.Outcome.ANSWERED
    assert fact in answer.text


@pytest.mark.parametrize(
    ("question", "unstated"),
    [
        # A kind of discount no page names, beside the one the prices page gives.
        ("Is there a student discount on parts and servicing?", ["student discount"]),
        # A change no page announces, asked of the year after the dated price list.
        ("Will your prices go up next year?", [str(THIS_YEAR + 1)]),
        # A thing the pages name only about another (the lights' dynamo), asked with what
        # another page states (recharging the battery).
        ("Can a dynamo recharge my e-bike battery while I ride?", ["dynamo"]),
    ],
)
async def test_a_variant_a_future_change_or_a_thing_stated_apart_gets_dont_know_and_a_person(
    priced_bike_shop, question, unstated
):
    answer = await one_question(priced_bike_shop.public_key, question)

    reply = await last_answer(priced_bike_shop)
    assert reply.outcome == Message.Outcome.DONT_KNOW
    assert "talk to a person" in answer.text
    assert reply.trace["answerability"]["unstated"] == unstated


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        # The variant asked about is the one a page states.
        ("Is there a kids' bike size?", "16 and 20 inch"),
        # A word that stresses ("regular") names no kind of service.
        ("What does a regular service cost?", "60 euros"),
    ],
)
async def test_a_variant_the_pages_state_is_answered(priced_bike_shop, question, fact):
    answer = await one_question(priced_bike_shop.public_key, question)

    reply = await last_answer(priced_bike_shop)
    assert reply.outcome == Message.Outcome.ANSWERED
    assert fact in answer.text
    assert reply.trace["answerability"]["unstated"] == []


async def test_a_change_a_page_announces_for_next_year_is_answered(bank):
    answer = await one_question(bank.public_key, "Will the account fee go up next year?")

    reply = await last_answer(bank)
    assert reply.outcome == Message.Outcome.ANSWERED
    assert "4 euros" in answer.text


async def test_a_word_of_degree_names_no_kind_the_pages_lack(priced_bike_shop):
    await one_question(priced_bike_shop.public_key, "Is there a bigger frame for tall riders?")

    # "bigger" is no page's word, but asks which of the frames stated is larger.
    assert (await last_answer(priced_bike_shop)).trace["answerability"]["unstated"] == []
