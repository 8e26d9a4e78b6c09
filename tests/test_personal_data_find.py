"""Where personal data is in a text: phone numbers by their run of digits, not by figures."""

import pytest

from assistant.rails.personal_data import personal_data_find


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("Call +1 (415) 555-0142 or 020 7946 0958 any day.", ["PHONE", "PHONE"]),
        ("Our Denver store: 85 Larkspur Ave, CO 80205, phone 303.555.0199.", ["PHONE"]),
        # Blocks of four digits at most, joined by three-character separators.
        ("Ring 0049 - 30 - 1234 - 567 in Berlin.", ["PHONE"]),
        # Many digits in all, but no run of them long enough to be a phone number.
        ("Seat tube 147-158 cm (4'10\" - 5'2\") | 66-72 cm (26-28 in) | XS | 2025-03-12", []),
        ("Range 40-90 km (25-55 miles), 800 charge cycles to 70% capacity, 4A charger.", []),
    ],
)
def test_phone_numbers_are_found_where_their_digits_run_and_nowhere_else(text, kinds):
    assert [finding.kind for finding in personal_data_find(text=text)] == kinds


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        # Unicode spaces are read as spaces: a card or an SSN typed with no-break spaces is
        # one, not a phone number (which phonenumbers found there).
        ("Card 5555\u00a05555\u00a05555\u00a04444, thanks", ["CARD"]),
        ("Card 4111\u202f1111\u202f1111\u202f1111", ["CARD"]),
        ("My SSN is 536\u00a022\u00a01234.", ["SSN"]),
        # As sure of both, the narrower format names it: an ITIN is also SSN-shaped.
        ("My ITIN is 912-70-1234.", ["TAX_ID"]),
        ("IBAN DE89 3704 0044 0532 0130 00 please", ["IBAN"]),
        # The longer span names it: these digits after "+" pass Luhn, as one in ten do.
        ("Call me on +447700 208 815 after six.", ["PHONE"]),
    ],
)
def test_personal_data_is_named_by_the_recognizer_that_matched_it_best(text, kinds):
    assert [finding.kind for finding in personal_data_find(text=text)] == kinds
