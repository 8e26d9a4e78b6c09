"""The tag a company pastes into its pages to show the chat widget."""

from django.templatetags.static import static
from django.utils.html import escape

from assistant.models import Workspace


def widget_snippet(*, workspace: Workspace, keel_url: str) -> str:
    """The `<script>` tag as plain text to copy (a page escapes it to show it); `keel_url`
    is Keel's address as the company's customers reach it."""
    source = keel_url.rstrip("/") + static("keel/widget.js")
    key = escape(workspace.public_key)
    return f'<script src="{escape(source)}" data-workspace="{key}" defer></script>'
