"""The offline answer reads like an answer: whole sentences, table rows with their column
names, list items after their lead-in, no FAQ labels, each source cited once, two pages
combined when the question needs both. Own small help center, real ingest and search."""

import pytest

from tests.support.help_centers import answer_from_pages

pytestmark = pytest.mark.django_db

FAQ = """Harbor Kayaks - Frequently asked questions

Q: Can I rent a kayak without a reservation?
A: Walk-in rentals are possible on weekdays when boats are left over, but
   weekend rentals must be reserved online at least one day ahead.

Q: Do you provide life jackets?
A: Every rental includes a life jacket and a paddle at no
   extra charge.
"""

INTRO = "<p>Our boathouse on the east pier rents kayaks, canoes and paddle boards.</p>" * 3
HOURS = f"""<html><head><title>Opening hours</title></head><body>
<nav><a href="/">Home</a> <a href="/rent">Rent a boat</a></nav>
<main><article><h1>Opening hours</h1>{INTRO}
<table>
<tr><td></td><td>Summer season</td><td>Winter season</td></tr>
<tr><td>Weekdays</td><td>8:00-20:00</td><td>10:00-16:00</td></tr>
<tr><td>Sundays</td><td>9:00-18:00</td><td>Closed all day</td></tr>
</table>
<h2>Rental desk</h2>
<table>
<tr><th scope="row">Monday to Friday</th><td>From 9:00, last boat out at 17:00</td></tr>
<tr><th scope="row">Saturday and Sunday</th><td>From 8:00, last boat out at 18:00</td></tr>
</table></article></main></body></html>"""

CANCEL = """# Cancelling a membership

You can cancel your membership in three ways:

- Online in your account, under Membership.
- By calling the front desk during opening hours.
- In person at any of our boathouses.

Cancellations take effect at the end of the current month.
"""

ZONES = """# Delivery zones

Our delivery zones are based on the distance from our Portside warehouse.
Addresses in Greenfield and Millbrook are in delivery zone B.
"""

ZONE_FEES = """# Delivery fees

Delivery to an address in zone A costs $15 per order.
Delivery to an address in zone B costs $30 per order.
"""

COUNTRIES = (
    "Austria Belgium Bulgaria Croatia Cyprus Czechia Denmark Estonia Finland France Germany "
    "Greece Hungary Iceland Ireland Italy Latvia Liechtenstein Lithuania Luxembourg Malta "
    "Monaco Netherlands Norway Poland Portugal Romania Slovakia Slovenia Spain Sweden "
    "Switzerland"
)
SHIPPING_RATES = (
    "# Shipping rates in Europe\n\n| Country | Shipping cost | Delivery time |\n|---|---|---|\n"
    + (
        "".join(
            f"| {country} | EUR {20 + index} per parcel | {2 + index % 5} business days |\n"
            for index, country in enumerate(COUNTRIES.split())
        )
    )
)


def test_a_wrapped_faq_answer_is_quoted_whole_without_its_label(tmp_path, knowledge_base):
    answer = answer_from_pages(
        tmp_path, knowledge_base, "Do I get a life jacket with a rental?", **{"faq.txt": FAQ}
    )

    assert answer == ("Every rental includes a life jacket and a paddle at no extra charge [1].")


def test_a_table_row_is_quoted_with_its_column_names(tmp_path, knowledge_base):
    """A web page's table without header cells: its first row names the columns."""
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        "Is the boathouse open on Sundays in the winter season?",
        **{"hours.html": HOURS},
    )

    assert "Sundays — Summer season: 9:00-18:00; Winter season: Closed all day" in answer
    assert "|" not in answer


def test_a_table_of_row_headers_is_read_row_by_row(tmp_path, knowledge_base):
    """Cells that name their row (`<th scope="row">`) are not the table's column names."""
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        "When does the last boat go out at the rental desk on Sunday?",
        **{"hours.html": HOURS},
    )

    assert "Saturday and Sunday — From 8:00, last boat out at 18:00" in answer


def test_a_list_item_comes_after_its_lead_in(tmp_path, knowledge_base):
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        "Can I cancel my membership by calling the front desk?",
        **{"cancel.md": CANCEL},
    )

    assert answer.startswith("You can cancel your membership in three ways: ")
    assert "By calling the front desk during opening hours" in answer
    assert answer.count("You can cancel your membership in three ways:") == 1
    assert answer.count("[1]") == 1


def test_two_pages_are_combined_each_cited_once(tmp_path, knowledge_base):
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        "What does delivery to Millbrook cost?",
        **{"zones.md": ZONES, "fees.md": ZONE_FEES},
    )

    assert "Addresses in Greenfield and Millbrook are in delivery zone B" in answer
    assert "Delivery to an address in zone B costs $30 per order" in answer
    assert answer.count("[1]") == 1
    assert answer.count("[2]") == 1


REFUNDS = """# Refunds

Once your return reaches our warehouse, we inspect it and refund the full price of
the item to the payment method you used.
Refunds for orders paid with a gift card go back onto the gift card.
We email you when we issue the refund.
Your bank then needs 5 to 7 business days to show the money on your statement.
"""

WORKSHOP = """# Visiting the workshop

The workshop is open to everyone, members and visitors alike.
Opening days change with the school holidays, so check the calendar before you visit.
The workshop also opens for repair cafés, classes and open evenings.
When the workshop is open, a volunteer at the door shows you around.
The workshop is closed on public holidays.
Bring your own tools if you have them; we lend the rest.
Doors open at 9 am and close at 5 pm from Monday to Friday.
"""

SAFETY = """# Safety on the water

Your safety on the water comes first: wear your life jacket and stay within sight of
the pier.
Children under 12 must be accompanied by an adult in the same boat.
"""


def test_a_how_long_question_gets_the_sentence_that_says_how_long(tmp_path, knowledge_base):
    """Three sentences about refunds read closer to the question than the one that
    answers it; the answer is the one holding a duration."""
    answer = answer_from_pages(
        tmp_path, knowledge_base, "How long does a refund take?", **{"refunds.md": REFUNDS}
    )

    assert "Your bank then needs 5 to 7 business days to show the money" in answer


def test_a_when_open_question_gets_the_sentence_with_the_opening_times(tmp_path, knowledge_base):
    answer = answer_from_pages(
        tmp_path, knowledge_base, "When is the workshop open?", **{"workshop.md": WORKSHOP}
    )

    assert "Doors open at 9 am and close at 5 pm from Monday to Friday [1]." in answer


def test_a_second_page_is_quoted_only_for_what_it_adds(tmp_path, knowledge_base):
    """The rental FAQ's life-jacket sentence says nothing the safety page's does not."""
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        "Do I have to wear a life jacket?",
        **{"faq.txt": FAQ, "safety.md": SAFETY},
    )

    assert answer == (
        "Your safety on the water comes first: wear your life jacket and stay within sight "
        "of the pier [1]."
    )


def test_a_row_of_a_long_table_names_its_columns_in_every_chunk(tmp_path, knowledge_base):
    """The table is longer than a chunk: the rows of the later chunks still have the
    header's column names, not the first carried row's values."""
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        "How much does shipping to Slovenia cost?",
        **{"rates.md": SHIPPING_RATES},
    )

    assert "Slovenia — Shipping cost: EUR 48 per parcel; Delivery time: 5 business days" in answer


CARD_MOVE = """# Moving your membership card to a new phone

Your membership card lives in the Harbor app and works on one phone at a time.

- Install the Harbor app on the new phone and sign in.
- On the new phone, tap Card, then Move to this phone.
- Type the code we text you to confirm the move.
- Give the old phone a minute to let go of the card.

Lost your old phone? Call the front desk and we move the card for you.
"""


def test_a_how_do_i_question_gets_every_step_of_the_list(tmp_path, knowledge_base):
    """One step quoted alone does not say how: the answer is the whole procedure."""
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        "How do I move my membership card to my new phone?",
        **{"card.md": CARD_MOVE},
    )

    assert answer.startswith(
        "Install the Harbor app on the new phone and sign in. On the new phone, tap Card, "
        "then Move to this phone. Type the code we text you to confirm the move. Give the "
        "old phone a minute to let go of the card"
    )


PAUSE = """# Pausing your membership

You can pause your membership from your account page under Membership, then Pause.
Choose the date the pause starts and the date it ends.
A pause can start on any day of the month you choose.
You can pause your membership once per calendar year.
While your membership is paused, we do not charge the monthly membership fee.
Your locker is kept for you during a pause, with its contents untouched.
A pause lasts at least one month and at most three months.
"""

LATE_RETURNS = """# Late returns

Books are due back three weeks after you borrow them.
We send you a reminder email two days before a book is due.
If you return a book late, we add a fine to your library account.
The fine is $0.25 per book for each day it is late, up to $5 per book.
You can pay fines at the front desk or online in your library account.
When your fines reach $10, your library card is blocked until you pay them.
Books more than 60 days late are billed to your library account as lost.
"""


LOCKERS = """# Lockers

Members can rent a locker at any of our boathouses for $8 a month.
Lockers are emptied when a membership ends, and we keep the contents for 30 days.
You bring your own padlock; we cut off locks left on lockers that are not rented.
"""


def test_each_part_of_a_question_gets_its_own_answer_from_its_own_page(tmp_path, knowledge_base):
    """How to pause is on one page, the padlock on another: the first part is not
    crowded out by the sentences the two parts together read closest to."""
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        "How do I pause my membership, and do I need my own padlock for a locker?",
        **{"pause.md": PAUSE, "lockers.md": LOCKERS},
    )

    assert "You can pause your membership from your account page under Membership" in answer
    assert "You bring your own padlock" in answer
    assert answer.count("[1]") == 1
    assert answer.count("[2]") == 1


def test_each_part_of_a_question_is_answered_in_document_order(tmp_path, knowledge_base):
    """The due date and the fine read closer to the question than how to pay it."""
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        "When are books due back, and how can I pay a fine?",
        **{"late.md": LATE_RETURNS},
    )

    due = answer.index("Books are due back three weeks after you borrow them")
    pay = answer.index("You can pay fines at the front desk or online")
    assert due < pay
    assert answer.count("[1]") == 1


TOURS = """# Guided kayak tours

Our guides take groups out every morning from the east pier.

| Group size | Price per person | Snacks |
|---|---|---|
| 1-4 people | $40 | Not included |
| 5 to 9 | $35 | Included |
| 10+ | $30 | Included |

Tours last about three hours.
"""


@pytest.mark.parametrize(
    ("question", "row", "other_prices"),
    [
        (
            "We are a group of 12 people, what is the price per person for a guided tour?",
            "10+ — Price per person: $30; Snacks: Included",
            ["$40", "$35"],
        ),
        (
            "What would a guided tour cost per person for 6 people?",
            "5 to 9 — Price per person: $35; Snacks: Included",
            ["$40", "$30"],
        ),
    ],
)
def test_the_table_row_whose_range_holds_the_number_asked_is_quoted(
    tmp_path, knowledge_base, question, row, other_prices
):
    answer = answer_from_pages(tmp_path, knowledge_base, question, **{"tours.md": TOURS})

    assert row in answer
    assert not any(price in answer for price in other_prices)


BIKES = """# Bike rental

City bikes cost $18 per day, helmet included.
E-bikes cost $35 per day on weekdays and $45 per day at weekends.
Tandems cost $30 or EUR 28 per day, whichever currency you pay in.
Child seats can be added to any bike for free.
Guided tours cost $20 per rider per day in May instead of $30.
"""


def test_a_price_per_day_for_a_number_of_days_gets_its_short_calculation(tmp_path, knowledge_base):
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        "I want to rent a city bike for 4 days, what will it cost?",
        **{"bikes.md": BIKES},
    )

    assert "City bikes cost $18 per day, helmet included. 4 \u00d7 $18 = $72" in answer


@pytest.mark.parametrize(
    ("question", "total"),
    [
        (
            "We'd like a guided tour for 3 days. What will it cost?",
            "3 \u00d7 $20 = $60 per rider.",
        ),
        ("What does a guided tour cost for 2 riders?", "2 \u00d7 $20 = $40 per day."),
    ],
)
def test_a_price_per_two_things_gets_the_calculation_for_the_one_counted(
    tmp_path, knowledge_base, question, total
):
    """The price a promotion replaces ("instead of $30") is not a second price."""
    answer = answer_from_pages(tmp_path, knowledge_base, question, **{"bikes.md": BIKES})

    assert f"instead of $30. {total[:-1]}" in answer, answer


@pytest.mark.parametrize(
    "question",
    [
        "I want to rent an e-bike for 4 days, what will it cost?",  # two prices a day
        "What does a city bike cost for 3 hours?",  # priced per day, asked in hours
        "How much is a tandem for 2 days?",  # two currencies
        "What do 2 city bikes cost for 3 days?",  # days, and bikes: which to multiply?
    ],
)
def test_no_calculation_when_it_is_not_plain(tmp_path, knowledge_base, question):
    answer = answer_from_pages(tmp_path, knowledge_base, question, **{"bikes.md": BIKES})

    assert answer
    assert "\u00d7" not in answer


SEATS = """# Plans and prices

Every plan is billed monthly for each seat on the workspace.

| Seats on the workspace | Starter | Team | Business |
|---|---|---|---|
| 1 seat | $12 | $20 | $32 |
| 2-5 seats | $10 per seat | $18 per seat | $30 per seat |
| 6-50 seats | $8 per seat | $15 per seat | $26 per seat |

You can change a workspace's plan at any time from its billing settings.
"""


@pytest.mark.parametrize(
    ("question", "total"),
    [
        # one column named: the row's price for it, times the number of seats
        ("What will 3 seats on the Team plan cost each month?", "3 \u00d7 $18 = $54."),
        # as many columns named as seats: one seat of each, added up
        (
            "What will two seats cost per month, Business for me and Starter for my colleague?",
            "$30 + $10 = $40.",
        ),
    ],
)
def test_a_price_table_row_gets_the_total_for_the_columns_asked(
    tmp_path, knowledge_base, question, total
):
    answer = answer_from_pages(tmp_path, knowledge_base, question, **{"plans.md": SEATS})

    row = "2-5 seats — Starter: $10 per seat; Team: $18 per seat; Business: $30 per seat."
    assert f"{row} {total[:-1]}" in answer  # the calculation after the row it reads


def test_no_row_total_when_the_columns_named_do_not_match_the_seats(tmp_path, knowledge_base):
    """Three seats, two plans named: which plan has two seats is not said."""
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        "What will 3 seats cost each month with Team and Business?",
        **{"plans.md": SEATS},
    )

    assert "2-5 seats" in answer
    assert "=" not in answer


def test_a_question_of_many_parts_stays_within_the_longest_answer(tmp_path, knowledge_base):
    """Each part has its share of the words, and together they keep to the limit."""
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        "When are books due back, do you send a reminder, how much is the fine, how can I "
        "pay it, and when is my library card blocked?",
        max_words=40,
        **{"late.md": LATE_RETURNS},
    )

    assert len(answer.replace(" [1]", "").split()) <= 40


BUYING_ONLINE = """# Buying a bike online

Bikes bought online are delivered by courier, ready to ride, and can be returned in any
of our shops.
"""

WARRANTY = """# Bike returns and warranty

## Returns
You have 45 days from delivery to send a bike back, unridden and with all its parts.

## Frequently asked
Can I return a bike I bought from another dealer? No, only bikes bought from us.
Do you take back worn tyres? No, tyres are wearing parts.
I got my bike on 2 May and it is now 30 May. Is that still in time? Yes, for 45 days.
"""


def test_a_window_question_gets_the_sentence_that_says_how_long(tmp_path, knowledge_base):
    """A return window asks for a duration as plainly as "how long": the page on buying
    online reads closer, the returns page's 45 days answers."""
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        "What's the return window for a bike bought online?",
        **{"online.md": BUYING_ONLINE, "warranty.md": WARRANTY},
    )

    assert "You have 45 days from delivery to send a bike back" in answer


SPARE_KEYS = """# Spare keys for bike locks

Every lock we sell comes with one key, and we post a spare key free of charge.

## Locks on a payment plan
We post the spare key for a lock on a payment plan as soon as:
- the last instalment has been paid, and
- the lock has been registered to your account for 14 days.
You get an email with the tracking number when it ships.

## Prepaid locks
Prepaid locks come with their spare key in the box, within 3 working days of the order.
"""


def test_a_list_item_is_read_with_its_lead_in(tmp_path, knowledge_base):
    """The conditions of a payment plan are items of a list whose lead-in names the plan;
    the prepaid rule beside them holds a duration too, but not the plan the question
    names."""
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        "When will I get the spare key for a lock I'm buying on a payment plan?",
        **{"keys.md": SPARE_KEYS},
    )

    assert "the last instalment has been paid, and" in answer
    assert "the lock has been registered to your account for 14 days" in answer
    assert answer.index("We post the spare key") < answer.index("the last instalment")


PIER_RULES = """# Rules on the pier

Please keep the pier clear for people carrying boats.
You cannot bring glass bottles onto the pier.
Dogs on a lead are welcome on the pier and in the boathouse.
"""


@pytest.mark.parametrize(
    ("question", "files", "lead"),
    [
        ("Can I pause my membership?", {"pause.md": PAUSE}, "Yes. "),
        ("Can I bring glass bottles onto the pier?", {"pier.md": PIER_RULES}, "No. "),
    ],
)
def test_a_yes_no_question_opens_with_what_the_sentence_states(
    tmp_path, knowledge_base, question, files, lead
):
    answer = answer_from_pages(tmp_path, knowledge_base, question, **files)

    assert answer.startswith(lead)


@pytest.mark.parametrize(
    ("question", "files"),
    [
        # "once per calendar year" does not say yes or no to twice
        ("Can I pause my membership twice a year?", {"pause.md": PAUSE}),
        # the page says when the pause starts, not whether one can be backdated
        ("Can I backdate a pause of my membership?", {"pause.md": PAUSE}),
        ("Do you take back worn tyres?", {"warranty.md": WARRANTY}),  # it says so itself
    ],
)
def test_no_yes_or_no_the_sentence_does_not_state(tmp_path, knowledge_base, question, files):
    answer = answer_from_pages(tmp_path, knowledge_base, question, **files)

    assert answer
    assert not answer.startswith(("Yes. ", "No. "))


def test_the_question_a_faq_asks_itself_is_not_quoted(tmp_path, knowledge_base):
    """A FAQ's question, and the sentence leading up to it, read like the customer's
    own message; they are not its answer."""
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        "I got my bike on 3 May, is it too late to send it back on 31 May?",
        **{"warranty.md": WARRANTY},
    )

    assert "I got my bike on 2 May" not in answer


STORES = """# Our shops and opening hours

Every shop repairs bikes while you wait and lends a bike for the day.

## Leeds - Canal Wharf
14 Water Lane, Leeds LS11 5PS · 0113 496 0123

Monday to Saturday: 9:00 to 18:00

## York - Micklegate
Micklegate 98, York YO1 6JX · 01904 496 017

Monday to Saturday: 10:00 to 17:00
"""


@pytest.mark.parametrize(
    "question", ["What's the address of your Leeds shop?", "Where is the Leeds shop?"]
)
def test_an_address_question_gets_the_line_that_gives_the_street(
    tmp_path, knowledge_base, question
):
    """Shop and contact pages give a street address as a line of its own, with no full
    stop, under the heading that names the place: it answers "where is it?"."""
    answer = answer_from_pages(tmp_path, knowledge_base, question, **{"stores.md": STORES})

    assert answer is not None and "14 Water Lane, Leeds" in answer


COLLECTIONS = (
    "**After 6 weeks:** we pass your name to our collections partner, Ledgerline."
    " Your library card works again within 1 hour after the books are back."
)
LIBRARY_LATE = f"""# Late returns

If you keep a book past its due date, this is what happens:

- **After 3 days:** we send a reminder by e-mail.
- {COLLECTIONS}
- **After 10 weeks:** a lost book is charged at its full price.
"""


def test_a_list_items_later_sentence_comes_after_its_first(tmp_path, knowledge_base):
    answer = answer_from_pages(
        tmp_path,
        knowledge_base,
        "How soon does my library card work again after I bring the books back?",
        **{"late.md": LIBRARY_LATE},
    )

    opening = answer.find("After 6 weeks: we pass your name to our collections partner")
    later = answer.find("Your library card works again within 1 hour")
    assert 0 <= opening < later
    assert answer.count("Your library card works again") == 1
