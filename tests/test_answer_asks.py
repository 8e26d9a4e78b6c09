"""A question that asks two things gets an answer to each, in the order asked, each from
the page that answers it; a yes/no question gets its "Yes." or "No." even when the
sentence does not repeat the company's name. Own small help centers (a power utility, a
bank, a gym), real ingest, search, pipeline and websocket."""

import pytest
from channels.db import database_sync_to_async

from assistant.models import Citation, Message
from bench.llm_server import Reply
from tests.support.chat import one_question
from tests.support.factories import KnowledgeBaseFactory, WorkspaceFactory
from tests.support.help_centers import pages_ingest

UTILITY = {
    "billing.md": """# Your bill

We send your electricity bill by email on the first working day of each month.
Your bill shows the meter readings, the units used and the price per unit.
A bill is due 21 days after the date printed on it.
A late fee of $12 is added to your next bill when a bill is paid after its due date.
""",
    "paying.md": """# Ways to pay your bill

You can pay your bill by direct debit, by bank transfer or at any post office.
Direct debit takes the amount due from your bank account on the due date.
Payments by bank transfer need your customer number as the reference.
""",
    "disconnection.md": """# Disconnection for unpaid bills

We disconnect the electricity supply when a bill is still unpaid 45 days after its due date.
Ten days before a disconnection we send a final notice by post and by email.
Reconnection takes one working day once the amount owed is paid in full.
""",
    "fees.md": """# Fees and charges

A paper bill costs $2 a month; bills by email are free.
A returned direct debit costs $8.
A special meter reading at your request costs $35.
""",
    "payment-plans.md": """# Payment plans

If you cannot pay a bill in full, we can spread it over up to twelve months.
A payment plan has no fee, and no late fee is added while you keep to it.
""",
    "contact.md": """# Contact us

Our phone line opens at 8 am and closes at 6 pm, Monday to Friday.
You can also write to us from your online account, and we reply within two working days.
""",
    "meters.md": """# Meter readings

Smart meters send their readings to us every half hour.
If you have an older meter, you can send us a reading from your online account.
Estimated bills are corrected once we receive an actual reading.
""",
    "moving.md": """# Moving home

Tell us your moving date at least two weeks ahead so we can take a final reading.
Your final bill is sent within ten days of your moving date.
""",
}

# More pages on late fees, phones and lines: the whole question's search fills its
# passages with them.
BILL_QUESTIONS = {
    "late-bills.md": """# Paying a bill late

If your bill is late, the late fee appears on your next bill as a separate line.
We waive the late fee once a year if you ask us within a month.
""",
    "reminders.md": """# Bill reminders

We email a reminder three days before a bill is due, and again when it is late.
""",
    "disputes.md": """# Disputing a bill or a fee

If you think a bill or a late fee is wrong, tell us within 30 days.
""",
    "new-account.md": """# Opening an account

You can open an account online or by phone in ten minutes, and pay no fee to open it.
""",
    "power-cuts.md": """# Power cuts

If a power line is down, stay away from it and call our emergency line, open day and night.
""",
    "app.md": """# Our app

The app on your phone shows your bills, any late fee and your meter readings.
""",
}

BANK = {
    "cardholders.md": """# Additional cardholders

You can add up to three additional cardholders to your credit card account.
An additional cardholder gets their own card and PIN, and can use it anywhere you can.
Purchases made by an additional cardholder appear on your monthly statement.
""",
    "limits.md": """# Your credit limit

Only the main cardholder can ask us to raise the credit limit.
We review a request for a higher limit within five working days.
Your credit limit is shown in the app under Card details.
""",
    "closing.md": """# Closing your credit card account

Only the main cardholder can close the credit card account, in a branch or by phone.
Any balance must be paid in full before the account is closed.
Additional cards stop working on the day the account is closed.
""",
    "statements.md": """# Statements

Your monthly statement lists every purchase, payment, fee and interest charge.
Statements are available in the app for seven years.
""",
    "travel.md": """# Using your card abroad

Your credit card works in every country that accepts Mastercard.
Purchases abroad carry no foreign transaction fee.
""",
}

WALLETS = {
    "wallets.md": """# Mobile wallets

Apple Pay is supported on all our credit cards and debit cards issued since 2020.
Google Pay is supported on all our credit cards.
To add a card, open your wallet app and follow the steps to scan it.
""",
    "cards.md": """# Our cards

Northwind Bank offers a classic credit card, a cashback credit card and a debit card.
Every Northwind Bank card has contactless payments switched on when it arrives.
""",
    "app.md": """# The Northwind Bank app

The Northwind Bank app shows your balance, your statements and your card's PIN.
You can freeze a lost card in the Northwind Bank app in one tap.
""",
}

GYM = {
    "guests.md": """# Bringing a guest

You can bring a guest on weekdays after 6 pm and all day at weekends.
Guests sign in at reception with a photo ID and pay the day rate.
""",
    "hours.md": """# Opening hours at our gym

Our gym opens at 6 am and closes at 10 pm on weekdays.
At weekends our gym is open from 8 am to 8 pm.
""",
    "classes.md": """# Classes at our gym

Members book classes at our gym in the app up to seven days ahead.
A class booked and not attended counts against your monthly class allowance.
""",
    "joining.md": """# Joining our gym

You can join our gym online or at reception, with no joining fee.
Membership of our gym renews every month until you cancel it.
""",
    "parking.md": """# Parking at our gym

Members park free for up to three hours in the car park behind our gym.
""",
}


async def _asked(
    tmp_path, pages: dict[str, str], question: str, *, company: str = "Voltline"
) -> str:
    """The stored answer to `question`, asked over the customer socket."""
    workspace = await database_sync_to_async(WorkspaceFactory)(name=company)
    knowledge_base = await database_sync_to_async(KnowledgeBaseFactory)(workspace=workspace)
    await database_sync_to_async(pages_ingest)(
        knowledge_base=knowledge_base, pages=pages, folder=tmp_path
    )
    await one_question(workspace.public_key, question)
    message = await database_sync_to_async(Message.objects.get)(role=Message.Role.ASSISTANT)
    return message.text


@pytest.mark.asyncio
@pytest.mark.usefixtures("chat_state")
async def test_each_ask_is_answered_from_its_own_page_in_the_order_asked(
    tmp_path, transactional_db
):
    """The late fee is on the bill's page, the phone line's hours on the contact page:
    the second ask is searched alone, and its sentence follows the first's."""
    answer = await _asked(
        tmp_path, UTILITY, "How much is the late fee, and what time does your phone line open?"
    )

    fee = answer.index("A late fee of $12 is added")
    phone = answer.index("Our phone line opens at 8 am")
    assert fee < phone
    cited = await database_sync_to_async(
        lambda: sorted(Citation.objects.values_list("document_title", flat=True))
    )()
    assert cited == ["Contact us", "Your bill"]


@pytest.mark.asyncio
@pytest.mark.usefixtures("chat_state")
async def test_the_model_is_given_each_asks_passages(tmp_path, transactional_db, llm_server):
    """With an LLM, the same passages: the page only the second ask finds, searched alone,
    is among the sources the model is sent."""
    llm_server.default = Reply(pieces=["A late fee of $12 is added when a bill is paid late [1]."])
    pages = {**UTILITY, **BILL_QUESTIONS}

    await _asked(
        tmp_path, pages, "How much is the late fee, and what time does your phone line open?"
    )

    [request] = llm_server.requests
    sources = request["messages"][-2]["content"]
    assert "A late fee of $12 is added" in sources
    assert "Our phone line opens at 8 am" in sources


@pytest.mark.asyncio
@pytest.mark.usefixtures("chat_state")
@pytest.mark.parametrize(
    "question",
    [
        "Can an additional cardholder raise the credit limit or close the account?",
        # "on my account" before the actions: "on" is not the first action's verb
        "Can an additional cardholder on my card raise the credit limit or close the account?",
    ],
)
async def test_two_actions_joined_by_or_are_each_answered(tmp_path, transactional_db, question):
    """To "raise the limit or close the account" are two things the cardholder may do, each
    answered by its own page."""
    answer = await _asked(tmp_path, BANK, question, company="Northwind Bank")

    assert "Only the main cardholder can ask us to raise the credit limit" in answer
    assert "Only the main cardholder can close the credit card account" in answer


@pytest.mark.asyncio
@pytest.mark.usefixtures("chat_state")
async def test_an_ask_nothing_answers_is_left_out(tmp_path, transactional_db):
    """The first ask is answered; the second, which no page speaks of, adds nothing
    loosely related."""
    answer = await _asked(
        tmp_path,
        UTILITY,
        "How much is the late fee, and do you sell solar panels for the roof?",
    )

    assert "A late fee of $12 is added" in answer
    assert "solar" not in answer.casefold()
    assert "Smart meters" not in answer


@pytest.mark.asyncio
@pytest.mark.usefixtures("chat_state")
@pytest.mark.parametrize(
    ("pages", "company", "question", "lead"),
    [
        # the sentence says "our credit cards", not the bank's name
        (WALLETS, "Northwind Bank", "Can I use Apple Pay with a Northwind credit card?", "Yes. "),
        # "gym" is on every page of the gym's help center: it tells no page apart
        (GYM, "Oakfield", "Can I bring a guest to the gym?", "Yes. "),
    ],
)
async def test_a_yes_no_lead_does_not_wait_for_the_company_name(
    tmp_path, transactional_db, pages, company, question, lead
):
    answer = await _asked(tmp_path, pages, question, company=company)

    assert answer.startswith(lead)


@pytest.mark.asyncio
@pytest.mark.usefixtures("chat_state")
async def test_a_yes_no_lead_still_needs_the_other_words_asked(tmp_path, transactional_db):
    """The sentence speaks of credit cards; a question about prepaid cards gets no "Yes"."""
    answer = await _asked(
        tmp_path,
        WALLETS,
        "Can I use Google Pay with a Northwind prepaid card?",
        company="Northwind Bank",
    )

    assert answer
    assert not answer.startswith(("Yes. ", "No. "))
