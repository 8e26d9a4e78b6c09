"""Articles written to close a content gap."""

from django.conf import settings
from django.db import models

from assistant.models.conversations import Message
from assistant.models.workspaces import Workspace


class GapArticle(models.Model):
    """A knowledge article written to close a content gap: the questions it answers, so
    they leave the list of gaps, and the document it became."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200)
    document = models.ForeignKey(
        "knowledge.Document", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    questions = models.ManyToManyField(Message, related_name="gap_articles")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.title
