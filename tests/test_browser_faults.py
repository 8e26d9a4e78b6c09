"""The customer's connection drops while an answer is being written: the widget reconnects
by itself and shows the whole answer, in a real browser against a real daphne server."""

import pytest
from playwright.sync_api import expect

from assistant.widget.demo import DEMO_WORKSPACE_SLUG
from bench.llm_server import FakeLLMServer, Reply

pytestmark = pytest.mark.browser

ANSWER = ["Orders to Canada ", "take ", "5-8 ", "business ", "days ", "after ", "dispatch [1]."]


@pytest.fixture
def slow_model():
    with FakeLLMServer(default=Reply(pieces=ANSWER, token_delay=0.5)) as server:
        yield server


@pytest.fixture
def keel_server(keel_servers, slow_model):
    """A server of its own, answering with the slow model."""
    [server] = keel_servers(
        1, LLM_BASE_URL=slow_model.base_url, LLM_MODEL="test-model", LLM_API_KEY="k"
    )
    return server


def test_a_socket_dropped_mid_answer_reconnects_and_shows_the_whole_answer(
    page, demo_help_center, keel_server
):
    workspace = demo_help_center.workspace
    workspace.slug = DEMO_WORKSPACE_SLUG
    workspace.save()
    sockets = []

    def drop_on_the_first_streamed_piece(socket):
        """A network between browser and server that fails once, mid-answer."""
        server = socket.connect_to_server()
        first = not sockets
        sockets.append(socket)

        def to_page(message):
            if first and "beforeend:#message-" in message:
                socket.close(code=1012, reason="network dropped")  # as a proxy restart does
                server.close()
            else:
                socket.send(message)

        server.on_message(to_page)
        socket.on_message(server.send)

    page.route_web_socket("**/ws/chat/**", drop_on_the_first_streamed_piece)
    page.goto(keel_server + "/")
    page.get_by_role("button", name=f"Chat with {workspace.assistant_name}").click()
    panel = page.frame_locator("iframe#keel-panel")
    expect(panel.get_by_text(workspace.greeting)).to_be_visible()

    panel.get_by_role("textbox", name="Your question").fill(
        "How long does delivery to Canada take?"
    )
    panel.get_by_role("textbox", name="Your question").press("Enter")

    answer = panel.locator(".message--assistant").last
    expect(answer).to_contain_text("Orders to Canada take 5-8 business days", timeout=30_000)
    expect(answer.locator("a.cite").first).to_be_visible()
    assert len(sockets) >= 2  # it was dropped, and the widget connected again by itself
    expect(panel.locator(".typing")).to_have_count(0)
    expect(panel.locator("#notice")).to_have_text("")
