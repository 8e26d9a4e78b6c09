"""A customer chats through the widget in a real browser, against a real daphne server."""

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
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


def test_customer_asks_on_the_demo_page_and_sees_a_streamed_cited_answer(
    page, demo_help_center, keel_server
):
    workspace = demo_help_center.workspace
    workspace.slug = DEMO_WORKSPACE_SLUG
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
    expect(panel.get_by_role("textbox", name="Your question")).to_be_focused()
    record_socket_frames(chat_frame(page))

    panel.get_by_role("textbox", name="Your question").fill(QUESTION)
    panel.get_by_role("textbox", name="Your question").press("Enter")

    answer = panel.locator(".message--assistant").last
    expect(answer.locator("a.cite").first).to_be_visible(timeout=60_000)
    expect(answer).to_contain_text("business days")
    expect(panel.get_by_role("textbox", name="Your question")).to_have_value("")
    streamed = chat_frame(page).evaluate(
        "window.keelFrames.filter((f) => f.includes('beforeend:#message-')).length"
    )
    assert streamed >= 2  # the answer arrived sentence by sentence, each checked first

    with page.context.expect_page() as source_tab:
        answer.locator(".sources a").first.click()
    source = source_tab.value
    expect(source.locator("mark#cited")).to_be_visible()
    expect(source.locator("h1")).to_contain_text("Canada")
    source.close()

    page.reload()  # the panel was open, so it opens again, with the history
    panel = page.frame_locator("iframe#keel-panel")
    expect(panel.locator(".message--customer")).to_contain_text(QUESTION)
    expect(panel.locator(".message--assistant a.cite").first).to_be_visible()

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


@pytest.mark.parametrize("keel_server_env", [{"KEEL_RATE_LIMIT_MESSAGES_PER_SOCKET": "1/minute"}])
def test_the_box_is_cleared_once_keel_keeps_the_question_and_a_refused_one_stays(
    page, demo_help_center, keel_server
):
    panel, box = demo_chat_open(page, knowledge_base=demo_help_center, server=keel_server)

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
