"""The chat panel in a real browser, on one of two Keel processes sharing a real Redis:
when Redis goes away the customer is told, and when it is back the panel reconnects by
itself (static/keel/reconnect.js; htmx alone would not retry Keel's 4013)."""

import pytest
from playwright.sync_api import expect

from assistant.demo import DEMO_WORKSPACE_SLUG
from tests.test_browser_chat import chat_frame, record_socket_frames

pytestmark = pytest.mark.browser

SESSIONS_SEEN = "window.keelFrames.filter((frame) => frame.includes('id=\"session\"')).length"


def test_the_panel_says_the_chat_is_reconnecting_and_reconnects_when_redis_is_back(
    page, demo_help_center, keel_cluster, redis_server
):
    workspace = demo_help_center.workspace
    workspace.slug = DEMO_WORKSPACE_SLUG
    workspace.save()
    server_a, _ = keel_cluster
    page.goto(server_a + "/")
    page.get_by_role("button", name=f"Chat with {workspace.assistant_name}").click()
    panel = page.frame_locator("iframe#keel-panel")
    question = panel.get_by_role("textbox", name="Your question")
    question.fill("How long does delivery to Canada take?")
    question.press("Enter")
    expect(panel.locator(".message--assistant a.cite").first).to_be_visible(timeout=60_000)
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
