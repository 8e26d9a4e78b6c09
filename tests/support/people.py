"""Reading the links Keel e-mails (invitations, password resets), from the test process's
outbox or from what a live server sent to the tests' SMTP server."""

import re
from urllib.parse import urlsplit

from tests.support.smtp import SmtpInbox

LINK = re.compile(r"https?://\S+/(?:invitations|password-reset)/\S+/")


def link_path(body: str) -> str:
    """The path of the one Keel link in an e-mail's body."""
    [link] = LINK.findall(body)
    return urlsplit(link).path


def mailed_link_paths(inbox: SmtpInbox, *, to: str) -> list[str]:
    """The Keel links a live server e-mailed to `to` through `inbox`'s SMTP server, oldest
    first."""
    return [
        link_path(received.message.get_body(("plain",)).get_content())
        for received in inbox.mails
        if received.envelope_to == [to]
    ]


def invitation_accept_in(page, *, url: str, name: str, password: str) -> None:
    """A new person opens their invitation link in `page` and sets their name and password."""
    page.goto(url)
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Password:", exact=True).fill(password)
    page.get_by_label("Password again").fill(password)
    page.get_by_role("button", name="Join", exact=True).click()
