"""The offline answer is about what the question asks, not about the names around it: a
product named in the scene-setting does not bring its promotion in, a sentence of another
page is quoted only when it is on the chosen sentences' subject, and a yes/no question
opens with "Yes." or "No." only where the quoted sentence says it. Own small help
centers (a bike shop, an airline, a gym), real ingest, search and embeddings."""

import re

import pytest

from assistant.answering.question_focus import FactKind, kind_named, question_focus
from tests.support.help_centers import answer_from_pages

pytestmark = pytest.mark.django_db

BIKE_DEALS = """# Spring deals

## Velora X5 e-bike: $300 off in April
Buy a Velora X5 e-bike in April and get $300 off, plus a free helmet and lock.
The Velora X5 comes with a 625 Wh battery and a range of up to 120 km.
"""

BIKE_RETURNS = """# Returning a bike

You can return a bike within 30 days of delivery for a full refund.
There is no restocking fee on returned bikes, even when the box has been opened.
Refunds go back to the card you paid with within 5 business days.
"""

AIRLINE_PRIVACY = """# Your privacy at SkyJet

SkyJet does not sell your personal data, including your travel history, to anyone.
You can download everything we hold about you from your account, under Privacy.
We keep booking records for seven years, as aviation law requires.
"""

AIRLINE_BUSINESS = """# SkyJet for Business

SkyJet for Business gives firms, charities and public bodies discounted fares, one
invoice and a travel portal to manage their employees' bookings.
Sign up online; a business account manager calls you within two working days.
"""

GYM_PAYMENTS = """# Paying for your membership

Apple Pay has been available at every front desk since March 2024.
Cash is not accepted at any of our gyms.
Direct debits are taken on the first working day of each month.
"""

GYM_PAUSE = """# Pausing your membership

You can pause your membership from your account page under Membership, then Pause.
A pause lasts at least one month and at most three months.
"""

GIFT_CARDS = """# Gift cards

Promotional cards are different: they have an expiry date printed on them, usually 90 days.
Gift cards bought in our shops can be used in any of our gyms.
"""


def test_a_product_named_in_the_scene_does_not_bring_its_promotion(tmp_path, knowledge_base):
    """The question names the bike it bought, and asks about the fee: the sentence about
    the fee answers, the promotion for that bike is neither quoted nor cited."""
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        "I got my new Velora X5 last week and rode it twice, but it's not for me. "
        "If I send it back, is there a restocking fee?",
        **{"deals.md": BIKE_DEALS, "returns.md": BIKE_RETURNS},
    )

    assert answer.startswith("No. There is no restocking fee on returned bikes")
    assert "Velora" not in answer
    assert len(set(re.findall(r"\[\d\]", answer))) == 1


def test_a_sentence_of_another_page_sharing_only_a_word_is_not_added(tmp_path, knowledge_base):
    """The question's "advertising firms" and the business page's "firms" are one word in
    two senses: that page's sentence is on another subject and earns no citation."""
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        "Does SkyJet make money by selling my travel history to advertising firms?",
        **{"privacy.md": AIRLINE_PRIVACY, "business.md": AIRLINE_BUSINESS},
    )

    assert answer.startswith("SkyJet does not sell your personal data")
    assert "SkyJet for Business" not in answer
    assert len(set(re.findall(r"\[\d\]", answer))) == 1


@pytest.mark.parametrize(
    ("question", "files", "lead", "sentence"),
    [
        # "available" says yes to "can I use" as plainly as "you can use"
        (
            "Can I use Apple Pay at the front desk?",
            {"payments.md": GYM_PAYMENTS},
            "Yes. ",
            "Apple Pay has been available at every front desk",
        ),
        (
            "Can I pay with cash at the gym?",
            {"payments.md": GYM_PAYMENTS},
            "No. ",
            "Cash is not accepted at any of our gyms",
        ),
        # the question asks after a scene-setting sentence
        (
            "I'm travelling for work for two months. Can I pause my membership?",
            {"pause.md": GYM_PAUSE},
            "Yes. ",
            "You can pause your membership from your account page",
        ),
    ],
)
def test_a_yes_no_question_opens_with_what_the_sentence_says(
    tmp_path, knowledge_base, question, files, lead, sentence
):
    answer = answer_from_pages(tmp_path, knowledge_base, question, **files)

    assert answer.startswith(lead + sentence)


@pytest.mark.parametrize(
    ("question", "files"),
    [
        # the page speaks of the desk
        ("Can I use Apple Pay in the gym's online shop?", {"payments.md": GYM_PAYMENTS}),
        # it speaks of Apple Pay
        ("Can I use Google Pay at the front desk?", {"payments.md": GYM_PAYMENTS}),
        # "it" is the voucher of the scene; the sentence speaks of promotional cards
        (
            "I got a gift voucher for my birthday. Does it have an expiry date?",
            {"gift-cards.md": GIFT_CARDS},
        ),
    ],
)
def test_no_yes_when_the_sentence_speaks_of_something_else(
    tmp_path, knowledge_base, question, files
):
    answer = answer_from_pages(tmp_path, knowledge_base, question, **files)

    assert answer
    assert not answer.startswith(("Yes. ", "No. "))


CAMERA_CARE = """# CareShield for cameras

CareShield covers accidental damage and theft of a camera bought from us, billed monthly.

## Monthly price by model

| Camera | Monthly price | Excess per claim |
|---|---|---|
| Lumo Z6 Pro | $14 | $90 |
| Lumo Z6 | $9 | $60 |
| Lumo Z5 | $7 | $40 |
"""


def test_a_sentence_naming_another_model_yields_to_the_model_asked(tmp_path, knowledge_base):
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        "How much is CareShield per month for a Lumo Z6?",
        **{"care.md": CAMERA_CARE},
    )

    assert "Lumo Z6 — Monthly price: $9" in answer
    assert "Z6 Pro" not in answer and "Z5" not in answer


def test_a_place_name_going_on_is_no_other_kind_of_the_place():
    # A model's name going on is another model; a place's is a place's post or holiday.
    assert kind_named(question="How much is the Kestrel K7?", text="The Kestrel K7 Fold is $999.")
    assert not kind_named(
        question="Do you ship to Canada?", text="Accessories can be sent to a Canada Post box."
    )
    assert not kind_named(question="Do you deliver on holidays?", text="Not on Canada Day.")


BIKE_HELP_ES = """# Ayuda en español

## Devoluciones
Puedes devolver tu bicicleta en cualquier tienda, con el recibo de compra.
Tienes 30 días desde la entrega para devolver una bicicleta sin usar.
Nunca te pediremos los datos de tu tarjeta por correo electrónico.

## Reembolsos
El reembolso de una devolución se hace siempre a la tarjeta con la que pagaste.
Lo verás en tu cuenta en 5 días hábiles.
Las tarjetas regalo no se reembolsan en efectivo.

## Atención al cliente
Teléfono en español: lunes a viernes, de 8:00 a 18:00.
Nuestro equipo de atención al cliente habla español, inglés y portugués.
"""


@pytest.mark.parametrize(
    "question, fact",
    [
        ("¿Cuánto tarda el reembolso de una devolución?", "5 días"),
        ("¿A qué hora abre la atención al cliente en español?", "8:00"),
    ],
)
def test_a_question_in_another_language_gets_the_kind_of_fact_it_asks_for(
    tmp_path, knowledge_base, question, fact
):
    """The kind of fact asked ("¿Cuántos días…?": a number of days) is read in the
    customer's language too, so the sentence stating it wins over one only like the
    question in meaning."""
    answer = answer_from_pages(tmp_path, knowledge_base, question, **{"ayuda.md": BIKE_HELP_ES})
    assert fact in answer, answer


@pytest.mark.parametrize(
    "question, kind",
    [
        ("¿Cuánto cuesta el envío a Canarias?", FactKind.AMOUNT),
        ("¿Cuánto tarda el envío?", FactKind.DURATION),
        ("Wie hoch ist die Gebühr für eine Ersatzkarte?", FactKind.AMOUNT),
        ("Wie lange dauert die Lieferung?", FactKind.DURATION),
        ("À quelle heure ouvre le magasin ?", FactKind.CLOCK_TIME),
        ("Combien de jours ai-je pour retourner un vélo ?", FactKind.DURATION),
        ("Quanto custa a entrega?", FactKind.AMOUNT),
        ("Quando chega a minha encomenda?", FactKind.DATE),
        ("Dove si trova il negozio di Milano?", FactKind.PLACE),
        ("Hoe laat gaat de winkel open?", FactKind.CLOCK_TIME),
        ("Hoeveel fietsen mag ik huren?", FactKind.COUNT),
        ("Do you have stores in Costa Rica?", None),  # a place, not "costa" (it: costs)
    ],
)
def test_the_kind_of_fact_asked_is_read_in_every_reply_language(question, kind):
    assert question_focus(question=question).wants == ({kind} if kind else set())
