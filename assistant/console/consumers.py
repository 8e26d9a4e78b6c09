"""The agent console's socket: the live queue, and live updates of the conversation watched."""

import json

from django.template.loader import render_to_string

from assistant.common.threads import in_thread
from assistant.conversations.events import (
    agents_group,
    console_group,
    staff_group,
    typing,
)
from assistant.conversations.partials import transcript_and_status_html
from assistant.conversations.selectors import (
    conversation_for_staff,
    handoff_open,
    staff_membership,
)
from assistant.conversations.sockets import CLOSE_FORBIDDEN, RealtimeConsumer, frame_row_id
from assistant.conversations.staff_names import staff_name_for_customer
from assistant.handoffs.presence import presence_end, presence_start


class AgentConsumer(RealtimeConsumer):
    """A console socket: live queue, and live updates of the conversation being viewed.

    Only signed-in agents and admins of the workspace connect, and their membership is
    checked again on every frame; a membership removed or changed closes the socket at once
    (events.membership_changed, through the person's own group). A customer socket never
    joins these groups; this socket never joins a customer's.
    Frames: "watch" (a conversation of the workspace; with "refresh", sent again after a
    reconnection, the conversation as it is now comes back) and "typing".
    """

    role = "console"
    notice_template = "console/_notice.html"
    unavailable_text = "Live updates stopped: the connection was lost. Reconnecting…"

    async def connect(self):
        self.watching = None
        self.slug = self.scope["url_route"]["kwargs"]["workspace_slug"]
        membership = await self._membership()
        if membership is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.workspace = membership.workspace
        await self.accept()
        await self.channel_layer.group_add(self._staff_group(), self.channel_name)
        # Checked again once in the group: a removal in between found no socket to close.
        if await self._membership() is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(console_group(self.workspace.pk), self.channel_name)
        await in_thread(presence_start)(
            user=self.scope["user"], workspace=self.workspace, channel_name=self.channel_name
        )

    async def disconnect(self, code):
        if getattr(self, "workspace", None) is None:
            return
        await self.channel_layer.group_discard(self._staff_group(), self.channel_name)
        await self.channel_layer.group_discard(console_group(self.workspace.pk), self.channel_name)
        await self._unwatch()
        await in_thread(presence_end)(workspace=self.workspace, channel_name=self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        try:
            frame = json.loads(text_data or "")
        except ValueError:
            frame = None
        if not isinstance(frame, dict):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if await self._membership() is None:  # removed before its socket heard of it
            await self.access_changed({})
            return
        if frame.get("type") == "watch":
            await self.watch(
                frame_row_id(frame, "conversation_id"), refresh=frame.get("refresh") is True
            )
        elif frame.get("type") == "typing" and self.watching is not None:
            handoff = await in_thread(handoff_open)(conversation_id=self.watching)
            user = self.scope["user"]
            if handoff is not None and handoff.claimed_by_id == user.pk:
                await typing(conversation_id=self.watching, name=staff_name_for_customer(user=user))

    async def watch(self, conversation_id: int | None, *, refresh: bool):
        """Live updates of one conversation; `refresh`: a page whose socket was lost wants
        the conversation as it is now (read after joining, so nothing falls in between)."""
        found = None
        if conversation_id is not None:
            found = await in_thread(conversation_for_staff)(
                workspace=self.workspace, conversation_id=conversation_id
            )
        await self._unwatch()
        if found is not None:
            self.watching = found.pk
            await self.channel_layer.group_add(agents_group(found.pk), self.channel_name)
            if refresh:
                await self.send(
                    text_data=await in_thread(transcript_and_status_html)(conversation_id=found.pk)
                )

    async def chat_push(self, event: dict):
        if not self.closing:  # nothing more once its access is gone
            await self.send(text_data=event["html"])

    async def access_changed(self, event: dict):
        """The person's membership was removed or changed: told so, and closed (once, though
        a frame and the change's own event may both find it)."""
        if self.closing:
            return
        notice = render_to_string(
            "console/_notice.html",
            {"text": "Your access to this workspace changed. Reload the page to go on."},
        )
        await self.send(text_data=notice)
        await self.close(code=CLOSE_FORBIDDEN)

    async def redis_lost(self):
        if getattr(self, "workspace", None) is not None:
            await in_thread(presence_end)(workspace=self.workspace, channel_name=self.channel_name)

    async def _unwatch(self):
        if self.watching is not None:
            await self.channel_layer.group_discard(agents_group(self.watching), self.channel_name)
            self.watching = None

    def _staff_group(self) -> str:
        return staff_group(user_id=self.scope["user"].pk, workspace_id=self.workspace.pk)

    async def _membership(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return None
        return await in_thread(staff_membership)(user=user, workspace_slug=self.slug)
