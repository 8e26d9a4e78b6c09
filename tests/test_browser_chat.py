"""A customer chats through the widget in a real browser, against a real daphne server."""

import re
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from assistant.widget.demo import DEMO_WORKSPACE_SLUG
from tests.conftest import demo_chat_open
from tests.support.files import png

pytestmark = pytest.mark.browser

QUESTION = "How long does delivery to Canada take?"


def record_socket_frames(frame) -> None:
    frame.evaluate(
        "window.keelFrames = [];"
        "document.addEventListener('htmx:wsAfterMessage',"
        " (event) => window.keelFrames.push(event.detail.message));"
    )


def chat_frame(page):
    return next(frame for frame in page.frames if "/widget/" in frame.url)


def serious_accessibility_problems(frame) -> list[str]:
    """axe-core's every rule on the panel as it is now: its serious and critical findings."""
    found = Axe().run(frame).response["violations"]
    return [
        f"{violation['id']}: {node['html'][:120]}"
        for violation in found
        if violation["impact"] in ("serious", "critical")
        for node in violation["nodes"]
    ]


def test_customer_asks_on_the_demo_page_and_sees_a_streamed_cited_answer(
    page, demo_help_center, keel_server
):
    """The whole panel, each state checked by axe-core: suggested questions on open, an
    over-long paste explained (not cut), right-to-left text, a streamed cited answer, its
    source in a sheet inside the panel, and the e-mail form when no one is online."""
    workspace = demo_help_center.workspace
    workspace.slug = DEMO_WORKSPACE_SLUG
    workspace.suggested_questions = [QUESTION, "Do you rent e-bikes?"]
    workspace.avatar.save("face.png", ContentFile(png()))

    page.goto(keel_server + "/")
    launcher = page.get_by_role("button", name=f"Chat with {workspace.assistant_name}")
    launcher.click()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    panel = page.frame_locator("iframe#keel-panel")
    expect(panel.get_by_text(workspace.greeting)).to_be_visible()
    avatar_loaded = chat_frame(page).wait_for_function(
        "() => { const avatar = document.querySelector('img.chat__avatar');"
        " return avatar && avatar.complete && {width: avatar.naturalWidth}; }",
        polling=100,
    )
    assert avatar_loaded.json_value() == {"width": 8}  # the image, not a broken one (0)
    box = panel.get_by_role("textbox", name="Your question")
    expect(box).to_be_focused()
    suggestions = panel.get_by_role("form", name="Suggested questions").get_by_role("button")
    expect(suggestions).to_have_text([QUESTION, "Do you rent e-bikes?"])
    assert serious_accessibility_problems(chat_frame(page)) == []
    record_socket_frames(chat_frame(page))

    limit = settings.KEEL_MAX_MESSAGE_CHARS
    box.fill("My order history: " + "x" * 25_000)  # a paste far over the limit
    expect(box).to_have_value("My order history: " + "x" * 25_000)  # all kept, not cut
    expect(panel.locator("#message-limit")).to_have_text(
        f"Your message is 25,018 characters long; the limit is {limit:,}. "
        "Please shorten it before sending."
    )
    box.press("Enter")  # refused here, before Keel: nothing is sent
    panel.get_by_role("button", name="Send", exact=True).click()
    expect(box).to_have_attribute("aria-invalid", "true")
    box.fill("x" * (limit - 10))
    expect(panel.locator("#message-limit")).to_have_text(f"{limit - 10:,} / {limit:,}")
    box.fill("كم يستغرق التوصيل إلى كندا؟")
    assert box.evaluate("box => box.matches(':dir(rtl)')")
    expect(panel.locator("#message-limit")).to_be_hidden()
    box.fill("")
    assert chat_frame(page).evaluate("window.keelFrames.length") == 0

    suggestions.first.click()  # sends the question, as typed
    expect(panel.locator(".message--customer .message__text")).to_have_text(QUESTION)
    expect(panel.locator(".message--customer .message__text")).to_have_attribute("dir", "auto")
    expect(suggestions.first).to_be_hidden()

    answer = panel.locator(".message--assistant").last
    expect(answer.locator("a.cite").first).to_be_visible(timeout=60_000)
    expect(answer).to_contain_text("business days")
    expect(answer.locator(".message__author")).to_have_text(workspace.assistant_name)
    expect(answer.locator("img.avatar")).to_be_visible()
    expect(answer.locator("time")).to_have_attribute("title", re.compile(r"\d{4}"))
    expect(box).to_have_value("")
    streamed = chat_frame(page).evaluate(
        "window.keelFrames.filter((f) => f.includes('beforeend:#message-')).length"
    )
    assert streamed >= 2  # the answer arrived sentence by sentence, each checked first
    assert serious_accessibility_problems(chat_frame(page)) == []

    source_link = answer.locator(".sources a").first
    source_link.click()  # in a sheet over the conversation, not a new tab
    sheet = panel.get_by_role("dialog", name=re.compile("Canada"))
    expect(sheet).to_be_visible()
    expect(sheet.locator(".sheet__passage")).to_contain_text("business days")
    expect(sheet.get_by_role("button", name="Back to the chat")).to_be_focused()
    assert len(page.context.pages) == 1
    assert serious_accessibility_problems(chat_frame(page)) == []
    page.keyboard.press("Escape")  # closes the sheet, not the chat
    expect(sheet).to_be_hidden()
    expect(page.locator("iframe#keel-panel")).to_be_visible()
    expect(source_link).to_be_focused()
    cite = answer.locator("a.cite").first
    cite.click()
    sheet.get_by_role("button", name="Back to the chat").click()
    expect(sheet).to_be_hidden()
    expect(cite).to_be_focused()

    page.reload()  # the panel was open, so it opens again, with the history
    panel = page.frame_locator("iframe#keel-panel")
    expect(panel.locator(".message--customer")).to_contain_text(QUESTION)
    expect(panel.locator(".message--assistant a.cite").first).to_be_visible()

    # No one from the team is online: the e-mail form, in the conversation.
    panel.get_by_role("button", name="Talk to a person").click()
    email = panel.get_by_label("Leave your e-mail address")
    expect(panel.get_by_role("textbox", name="Your question")).to_have_attribute(
        "placeholder", "Leave your e-mail above, or keep writing…"
    )
    email.fill("not an address")
    email.press("Enter")
    expect(panel.locator("#ticket-error")).to_have_text(
        "That doesn't look like an e-mail address. Please check it."
    )
    expect(email).to_have_value("not an address")
    assert serious_accessibility_problems(chat_frame(page)) == []
    email.fill("rider@example.com")
    email.press("Enter")
    expect(panel.locator("#handoff-status")).to_contain_text("contact you at rider@example.com")

    panel.get_by_role("textbox", name="Your question").press("Escape")
    expect(page.locator("iframe#keel-panel")).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")


def test_history_survives_reloads_on_another_site_that_blocks_third_party_cookies(
    page, demo_help_center, keel_server, tmp_path
):
    """The widget on a company's own site (another origin): the visitor token lives in that
    site's storage, so the chat works with third-party cookies blocked (as the test browser
    does, see CHROMIUM_ARGS)."""
    workspace = demo_help_center.workspace
    company_site = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=tmp_path)
    )
    site_url = f"http://127.0.0.1:{company_site.server_address[1]}"
    workspace.allowed_origins = [site_url]
    workspace.save()
    (tmp_path / "index.html").write_text(
        "<!doctype html><title>Company</title><h1>Company site</h1>"
        f'<script src="{keel_server}/static/keel/widget.js" '
        f'data-workspace="{workspace.public_key}" defer></script>'
    )
    threading.Thread(target=company_site.serve_forever, daemon=True).start()

    page.goto(site_url + "/index.html")
    page.get_by_role("button", name="Chat with").click()
    panel = page.frame_locator("iframe#keel-panel")
    panel.get_by_role("textbox", name="Your question").fill("How do I return a bike?")
    panel.get_by_role("button", name="Send").click()
    expect(panel.locator(".message--assistant a.cite").first).to_be_visible(timeout=60_000)

    page.reload()
    panel = page.frame_locator("iframe#keel-panel")
    expect(panel.locator(".message--customer")).to_contain_text("How do I return a bike?")
    expect(panel.locator(".message--assistant").last).to_contain_text("30 days")
    company_site.shutdown()


def test_the_box_is_cleared_once_keel_keeps_the_question_and_a_refused_one_stays(
    page, demo_help_center, keel_servers
):
    [server] = keel_servers(1, KEEL_RATE_LIMIT_MESSAGES_PER_SOCKET="1/minute")
    panel, box = demo_chat_open(page, knowledge_base=demo_help_center, server=server)

    box.fill("How do I return a bike?")
    box.press("Enter")
    expect(panel.locator(".message--customer")).to_contain_text("How do I return a bike?")
    expect(box).to_have_value("")
    expect(panel.locator(".message--assistant a.cite").first).to_be_visible(timeout=60_000)

    box.fill("Do you ship to Canada?")
    box.press("Enter")
    expect(panel.locator("#notice")).to_contain_text("faster than I can answer")
    expect(box).to_have_value("Do you ship to Canada?")  # not sent: still there to send


def test_quick_questions_each_get_their_answer_below_them(page, demo_help_center, keel_server):
    """Sent while the first is answered, the others wait in the transcript; each moves
    down to its answer when its turn comes, and the box clears as each is kept."""
    panel, box = demo_chat_open(page, knowledge_base=demo_help_center, server=keel_server)
    questions = ["How do I return a bike?", "Do you ship to Canada?", "How do I track my order?"]

    for question in questions:
        box.fill(question)
        box.press("Enter")
        expect(box).to_have_value("")  # kept by Keel before the box clears

    messages = panel.locator("#messages > .message:not(.message--greeting)")
    expect(panel.locator(".message__text--streaming")).to_have_count(0, timeout=60_000)
    expect(messages).to_have_count(2 * len(questions))
    expect(panel.locator(".message--customer")).to_contain_text(questions)
    for index in range(len(questions)):
        expect(messages.nth(2 * index)).to_have_class("message message--customer")
        expect(messages.nth(2 * index + 1)).to_have_class("message message--assistant")
