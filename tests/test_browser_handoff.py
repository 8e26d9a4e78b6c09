"""The whole handoff in two real browser windows against a real daphne server: a customer
on the demo page asks for a person, an agent sees it arrive in the console without
reloading, takes it, replies, and hands it back; each side sees the other live."""

import re

import pytest
from playwright.sync_api import expect

from assistant.models import Membership
from assistant.widget.demo import DEMO_WORKSPACE_SLUG
from tests.conftest import log_in
from tests.support.factories import MembershipFactory

pytestmark = pytest.mark.browser


def test_customer_and_agent_round_trip(browser, demo_help_center, keel_server):
    workspace = demo_help_center.workspace
    workspace.slug = DEMO_WORKSPACE_SLUG
    workspace.save()
    agent = MembershipFactory(
        workspace=workspace, role=Membership.Role.AGENT, user__first_name="Maya"
    )
    agent_context, customer_context = browser.new_context(), browser.new_context()
    console = agent_context.new_page()
    shop = customer_context.new_page()

    log_in(console, url=keel_server + "/console/", membership=agent)
    expect(console.get_by_role("heading", name="Console")).to_be_visible()
    expect(console.locator("#queue")).to_contain_text(f"Online: {agent.user.username}")
    console.evaluate("window.notReloaded = true")

    shop.goto(keel_server + "/")
    shop.get_by_role("button", name=f"Chat with {workspace.assistant_name}").click()
    panel = shop.frame_locator("iframe#keel-panel")
    panel.get_by_role("button", name="Talk to a person").click()
    expect(panel.locator("#handoff-status")).to_contain_text("You're number 1 in the queue")

    waiting = console.locator("#queue ol.queue li")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text("Asked for a person")
    expect(console).to_have_title("(1) Console · Keel")
    assert console.evaluate("window.notReloaded") is True
    waiting.get_by_role("link").click()
    console.get_by_role("button", name="Take this conversation").click()
    expect(panel.locator("#handoff-status")).to_contain_text("Maya from our team is with you")
    box = panel.get_by_role("textbox", name="Your question")
    expect(box).to_have_attribute("placeholder", "Write to Maya…")

    long_link = "https://shop.example/orders/" + "TC104582" * 12  # one unbreakable word
    console.get_by_label("Reply to the customer").fill(f"Hello! I'm here to help. {long_link}")
    expect(panel.locator("#typing")).to_have_text("Maya is typing…")
    console.get_by_role("button", name="Send").click()
    reply = panel.locator(".message--agent")
    expect(reply).to_contain_text("Hello! I'm here to help.")
    expect(reply.locator(".message__author")).to_have_text("Maya")
    expect(reply.locator(".avatar--person")).to_have_text("M")
    expect(reply.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    greeting = panel.locator(".message--greeting .message__bubble")
    assistant_colour = greeting.evaluate("bubble => getComputedStyle(bubble).backgroundColor")
    expect(reply.locator(".message__bubble")).not_to_have_css("background-color", assistant_colour)
    # The long link wraps inside its bubble: nothing sticks out of the conversation.
    messages = panel.locator("#messages")
    assert messages.evaluate("list => list.scrollWidth <= list.clientWidth")

    panel.get_by_role("textbox", name="Your question").fill("Where is my order TC-104582?")
    panel.get_by_role("textbox", name="Your question").press("Enter")
    # The server's first typed message loads its models (rails, embeddings): seconds.
    expect(console.locator("#transcript")).to_contain_text(
        "Where is my order TC-104582?", timeout=60_000
    )

    console.get_by_role("button", name="Hand back to the assistant").click()
    expect(panel.get_by_role("button", name="Talk to a person")).to_be_visible()
    expect(box).to_have_attribute("placeholder", "Ask a question…")
    question = panel.get_by_role("textbox", name="Your question")
    question.fill("How long does delivery to Canada take?")
    question.press("Enter")
    answer = panel.locator(".message--assistant").last
    expect(answer.locator("a.cite").first).to_be_visible(timeout=60_000)
    expect(console.locator("#transcript")).to_contain_text("business days")
    agent_context.close()
    customer_context.close()
