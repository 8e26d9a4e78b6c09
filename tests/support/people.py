"""Reading the links Keel e-mails (invitations, password resets), from the test process's
outbox or from the files a live server's file-based e-mail backend writes."""

import re
from pathlib import Path
from urllib.parse import urlsplit

LINK = re.compile(r"https?://\S+/(?:invitations|password-reset)/\S+/")


def link_path(body: str) -> str:
    """The path of the one Keel link in an e-mail's body."""
    [link] = LINK.findall(body)
    return urlsplit(link).path


def mailed_link_paths(folder: Path, *, to: str) -> list[str]:
    """The Keel links e-mailed to `to` by a live server (EMAIL_FILE_PATH=`folder`), oldest
    first."""
    paths = []
    for message in sorted(folder.glob("*.log"), key=lambda path: path.stat().st_mtime_ns):
        for sent in message.read_text().split("-" * 79):
            if re.search(rf"^To: {re.escape(to)}$", sent, re.MULTILINE):
                paths.append(link_path(sent))
    return paths


def invitation_accept_in(page, *, url: str, name: str, password: str) -> None:
    """A new person opens their invitation link in `page` and sets their name and password."""
    page.goto(url)
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Password:", exact=True).fill(password)
    page.get_by_label("Password again").fill(password)
    page.get_by_role("button", name="Join", exact=True).click()
