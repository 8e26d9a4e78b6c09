"""The chat panel in a real browser, on one of two Keel processes sharing a real Redis:
when Redis goes away the customer is told, and when it is back the panel reconnects by
itself (static/keel/reconnect.js; htmx alone would not retry Keel's 4013); a message
pushed again after the history was read shows once; the console, its socket back, shows
what was written while it was away."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels_redis.core import RedisChannelLayer
from django.template.loader import render_to_string
from playwright.sync_api import expect

from assistant.answering import pipeline
from assistant.conversations.events import conversation_group
from assistant.conversations.selectors import messages_for_display
from assistant.models import Conversation, Membership, Message
from assistant.widget.demo import DEMO_WORKSPACE_SLUG
from tests.conftest import demo_chat_open, log_in
from tests.support.factories import MembershipFactory
from tests.test_browser_chat import chat_frame, record_socket_frames

pytestmark = pytest.mark.browser

SESSIONS_SEEN = "window.keelFrames.filter((frame) => frame.includes('id=\"session\"')).length"


def panel_with_an_answer(page, demo_help_center, *, server: str):
    """The demo page's chat panel on `server`, one question asked and answered; the
    panel and its question box."""
    panel, question = demo_chat_open(page, knowledge_base=demo_help_center, server=server)
    question.fill("How long does delivery to Canada take?")
    question.press("Enter")
    expect(panel.locator(".message--assistant a.cite").first).to_be_visible(timeout=60_000)
    return panel, question


def test_the_panel_says_the_chat_is_reconnecting_and_reconnects_when_redis_is_back(
    page, demo_help_center, keel_cluster, redis_server
):
    panel, question = panel_with_an_answer(page, demo_help_center, server=keel_cluster[0])
    record_socket_frames(chat_frame(page))

    redis_server.stop()
    expect(panel.locator("#notice")).to_contain_text("lost its connection and is reconnecting")

    redis_server.start()
    # The panel's next attempt says hello and is answered with the history.
    chat_frame(page).wait_for_function(f"{SESSIONS_SEEN} >= 1", timeout=90_000)
    expect(panel.locator("#notice")).to_have_text("")
    expect(panel.locator(".message--customer")).to_contain_text("delivery to Canada")
    question.fill("How do I return a bike?")
    question.press("Enter")
    expect(panel.locator(".message--customer")).to_have_count(2)
    answer = panel.locator(".message--assistant").last
    expect(answer).to_contain_text("within 30 days", timeout=60_000)
    expect(answer.locator("a.cite").first).to_be_visible()


def test_a_message_pushed_again_after_the_history_is_shown_once(
    page, demo_help_center, keel_cluster, redis_server
):
    """After a reconnect the panel reads the history, and a message in it can still be
    pushed after it (its push leaves once its write commits): the late copy is skipped."""
    panel, question = panel_with_an_answer(page, demo_help_center, server=keel_cluster[0])

    asked = messages_for_display().get(role=Message.Role.CUSTOMER)
    late_copy = render_to_string("widget/_message_push.html", {"message": asked, "swap": "append"})
    after_it = render_to_string("widget/_notice.html", {"text": "Pushed after the late copy."})

    async def late_pushes():  # as a server process pushes; a group's pushes arrive in order
        layer = RedisChannelLayer(hosts=[redis_server.url])
        for html in (late_copy, after_it):
            await layer.group_send(
                conversation_group(asked.conversation_id), {"type": "chat.push", "html": html}
            )

    with ThreadPoolExecutor(max_workers=1) as pusher:  # Playwright's loop owns this thread
        pusher.submit(asyncio.run, late_pushes()).result()

    expect(panel.locator("#notice")).to_have_text("Pushed after the late copy.")
    expect(panel.locator(".message--customer")).to_have_count(1)
    question.fill("How do I return a bike?")  # a message not yet shown is still appended
    question.press("Enter")
    expect(panel.locator(".message--customer")).to_have_count(2)


def test_the_console_shows_what_was_written_while_its_socket_was_away(
    browser, demo_help_center, keel_cluster, redis_server
):
    """After a reconnect the console asks for the conversation again ("watch" with
    "refresh", static/keel/console.js): a message stored meanwhile appears, once."""
    workspace = demo_help_center.workspace
    workspace.slug = DEMO_WORKSPACE_SLUG
    workspace.save()
    server_a, server_b = keel_cluster
    agent = MembershipFactory(workspace=workspace, role=Membership.Role.AGENT)
    console = browser.new_context().new_page()
    shop = browser.new_context().new_page()
    log_in(console, url=server_a + "/console/", membership=agent)
    shop.goto(server_b + "/")
    shop.get_by_role("button", name=f"Chat with {workspace.assistant_name}").click()
    shop.frame_locator("iframe#keel-panel").get_by_role("button", name="Talk to a person").click()
    console.locator("#queue ol.queue li").get_by_role("link").click()
    expect(console.locator("#transcript")).to_be_visible()

    redis_server.stop()
    expect(console.locator("#console-notice")).to_contain_text("connection was lost")
    conversation = Conversation.objects.get(workspace=workspace)
    written = "My order TC-104582 was meant to arrive on Monday."
    asked = pipeline.answer(conversation=conversation, text=written)  # a person has it: stored
    with ThreadPoolExecutor(max_workers=1) as customer:  # Playwright's loop owns this thread
        customer.submit(asyncio.run, asked).result()
    redis_server.start()

    expect(console.locator("#console-notice")).to_have_text("", timeout=90_000)
    expect(console.locator("#transcript li", has_text=written)).to_have_count(1)
