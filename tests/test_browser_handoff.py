"""The whole handoff in two real browser windows against a real daphne server: a customer
on the demo page asks for a person, an agent sees it arrive in the console without
reloading, takes it, replies, and hands it back; each side sees the other live. The
console is used as agents do: its three panes, j/k between conversations, the composer's
keys (Enter, Shift+Enter, / and a canned reply's shortcut), the thread kept at its newest
message; and, on the same server, a browser notification of a customer left waiting while
the console is in a background tab."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from assistant.models import CannedReply, Conversation, Handoff, Membership
from assistant.widget.demo import DEMO_WORKSPACE_SLUG
from tests.conftest import log_in
from tests.support.factories import (
    ConversationFactory,
    HandoffFactory,
    MembershipFactory,
    MessageFactory,
)

pytestmark = pytest.mark.browser

# Short enough that a few messages overflow the thread, as a long conversation does.
VIEWPORT = {"width": 1280, "height": 560}
THREAD_AT_NEWEST = """() => {
  const thread = document.getElementById("transcript");
  return thread.scrollHeight > thread.clientHeight
    && thread.scrollHeight - thread.scrollTop - thread.clientHeight < 2;
}"""


def test_customer_and_agent_round_trip(browser, demo_help_center, keel_server):
    workspace = demo_help_center.workspace
    workspace.slug = DEMO_WORKSPACE_SLUG
    workspace.save()
    agent = MembershipFactory(workspace=workspace, role=Membership.Role.AGENT)
    agent.user.first_name, agent.user.last_name = "Maya", "Okafor"
    agent.user.save()
    CannedReply.objects.create(
        workspace=workspace,
        shortcut="thanks-waiting",
        title="Thanks for waiting",
        body="Thanks for waiting, I have your order in front of me.",
    )
    earlier = ConversationFactory(workspace=workspace, state=Conversation.State.WAITING)
    MessageFactory(conversation=earlier, text="My tyre pressure gauge arrived without a valve.")
    HandoffFactory(conversation=earlier)
    agent_context = browser.new_context(viewport=VIEWPORT)
    customer_context = browser.new_context()
    console = agent_context.new_page()
    shop = customer_context.new_page()

    log_in(console, url=keel_server + "/console/", membership=agent)
    expect(console.get_by_role("heading", name="Console")).to_be_visible()
    expect(console.locator("#queue")).to_contain_text("Online: Maya Okafor")
    console.evaluate("window.notReloaded = true")

    shop.goto(keel_server + "/")
    shop.get_by_role("button", name=f"Chat with {workspace.assistant_name}").click()
    panel = shop.frame_locator("iframe#keel-panel")
    panel.get_by_role("button", name="Talk to a person").click()
    expect(panel.locator("#handoff-status")).to_contain_text("You're number 2 in the queue")

    waiting = console.locator("#queue ol.queue li")
    expect(waiting).to_have_count(2)
    expect(waiting.last).to_contain_text("Asked for a person")
    expect(waiting.first).to_contain_text("Asked for a person: My tyre pressure gauge")
    expect(console).to_have_title("(2) Console · Keel")
    assert console.evaluate("window.notReloaded") is True

    # j/k move between conversations, Enter opens the one chosen.
    for key in ("j", "j", "k", "j"):
        console.keyboard.press(key)
    expect(waiting.last.get_by_role("link")).to_be_focused()
    console.keyboard.press("Enter")
    handoff = Handoff.objects.exclude(conversation=earlier).get(conversation__workspace=workspace)
    expect(console).to_have_url(
        f"{keel_server}/console/{workspace.slug}/conversations/{handoff.conversation_id}/?show=waiting"
    )
    # Three panes: the list, the thread, and what the agent needs beside it.
    expect(console.get_by_role("navigation", name="Conversations")).to_contain_text("Waiting 2")
    expect(console.locator("#thread-title")).to_contain_text("Visitor ")
    side = console.get_by_role("complementary", name="About this conversation")
    for part in (
        "Handoff",
        "Sources the assistant used",
        "Personal data",
        "Internal notes",
        "Other conversations",
    ):
        expect(side).to_contain_text(part)
    console.keyboard.press("?")
    expect(console.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    console.keyboard.press("Escape")
    expect(console.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()

    console.get_by_role("button", name="Take this conversation").click()
    expect(panel.locator("#handoff-status")).to_contain_text("Maya from our team is with you")
    box = panel.get_by_role("textbox", name="Your question")
    expect(box).to_have_attribute("placeholder", "Write to Maya…")

    reply = console.get_by_label("Reply to the customer")
    console.evaluate("document.activeElement.blur()")
    console.keyboard.press("/")
    expect(reply).to_be_focused()
    reply.fill("Hello!")
    expect(panel.locator("#typing")).to_have_text("Maya is typing…")
    reply.press("Shift+Enter")
    long_link = "https://shop.example/orders/" + "TC104582" * 12  # one unbreakable word
    reply.press_sequentially(f"I'm here to help. {long_link} /thanks")
    expect(console.get_by_role("option")).to_contain_text("Thanks for waiting")
    reply.press("Enter")  # takes the canned reply, sends nothing yet
    expect(reply).to_have_value(
        f"Hello!\nI'm here to help. {long_link} "
        "Thanks for waiting, I have your order in front of me."
    )
    reply.press("Enter")
    agent_reply = panel.locator(".message--agent")
    expect(agent_reply).to_contain_text("Thanks for waiting")
    expect(console.locator("#transcript .message--agent")).to_contain_text("Maya Okafor")
    expect(agent_reply.locator(".message__author")).to_have_text("Maya")
    expect(agent_reply.locator(".avatar--person")).to_have_text("M")
    expect(agent_reply.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    greeting = panel.locator(".message--greeting .message__bubble")
    assistant_colour = greeting.evaluate("bubble => getComputedStyle(bubble).backgroundColor")
    expect(agent_reply.locator(".message__bubble")).not_to_have_css(
        "background-color", assistant_colour
    )
    # The long link wraps inside its bubble: nothing sticks out of the conversation.
    messages = panel.locator("#messages")
    assert messages.evaluate("list => list.scrollWidth <= list.clientWidth")

    panel.get_by_role("textbox", name="Your question").fill("Where is my order TC-104582?")
    panel.get_by_role("textbox", name="Your question").press("Enter")
    # The server's first typed message loads its models (rails, embeddings): seconds.
    expect(console.locator("#transcript")).to_contain_text(
        "Where is my order TC-104582?", timeout=60_000
    )
    console.wait_for_function(THREAD_AT_NEWEST)  # pushed, and scrolled to
    console.reload()
    console.wait_for_function(THREAD_AT_NEWEST)  # and on opening

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

    # On the same server (one start less): the earlier customer has now waited long.
    Handoff.objects.filter(conversation=earlier).update(
        created_at=timezone.now() - timedelta(minutes=12)
    )
    a_customer_waiting_long_is_announced_once_while_the_console_is_in_the_background(
        browser, keel_server, agent=agent
    )


# The browser's own Notification, each one also noted; and a tab the test can send to the
# background (headless Chromium keeps every tab visible).
NOTIFICATIONS_NOTED = """
window.shown = [];
window.tabHidden = false;
Object.defineProperty(Document.prototype, "hidden", { get: () => window.tabHidden });
window.Notification = class extends window.Notification {
  constructor(title, options) {
    super(title, options);
    window.shown.push({ title: title, body: options.body });
  }
};
"""
TAB_LEFT = "window.tabHidden = true; document.dispatchEvent(new Event('visibilitychange'))"


def a_customer_waiting_long_is_announced_once_while_the_console_is_in_the_background(
    browser, keel_server, *, agent
):
    """`agent` opts in to browser notifications after 10 minutes: of the customers waiting
    (one for 12 minutes, one who just asked), only the first is announced, once, and only
    while the console is in a background tab."""
    just_now = ConversationFactory(workspace=agent.workspace, state=Conversation.State.WAITING)
    MessageFactory(conversation=just_now, text="Where is my parcel?")
    HandoffFactory(conversation=just_now)
    context = browser.new_context(permissions=["notifications"])
    context.add_init_script(NOTIFICATIONS_NOTED)
    console = context.new_page()

    settings_url = reverse("console_notifications", args=[agent.workspace.slug])
    log_in(console, url=keel_server + settings_url, membership=agent)
    console.get_by_label("Notify me in this browser").check()
    expect(console.locator("#browser-permission")).to_have_text(
        "This browser shows Keel's notifications."
    )
    console.get_by_label("After how many minutes").fill("10")
    console.get_by_role("button", name="Save").click()
    expect(console.get_by_text("Your notification settings are saved.")).to_be_visible()

    console.get_by_role("link", name="Back to the console").click()
    expect(console.locator("#queue ol.queue li")).to_have_count(2)
    assert console.evaluate("window.shown") == []  # in view, nothing is announced
    console.evaluate(TAB_LEFT)  # the handlers run before it returns
    shown = console.evaluate("window.shown")
    assert len(shown) == 1  # the wait of 12 minutes, not the one just begun
    assert shown[0]["title"].endswith(" is waiting")
    assert "My tyre pressure gauge arrived without a valve" in shown[0]["body"]
    # Left again, or after a reload: the same wait is not announced twice.
    console.evaluate(TAB_LEFT)
    assert len(console.evaluate("window.shown")) == 1
    console.reload()
    console.evaluate(TAB_LEFT)
    assert console.evaluate("window.shown") == []
    context.close()
