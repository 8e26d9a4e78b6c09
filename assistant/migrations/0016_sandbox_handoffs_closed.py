"""Sandbox conversations used to wait in the console queue like customers' (a check run
left dozens). Their handoffs are closed and they go back to the assistant, as escalating
a sandbox conversation does now."""

from django.db import migrations
from django.db.models.functions import Now


def sandbox_handoffs_close(apps, schema_editor):
    Handoff = apps.get_model("assistant", "Handoff")
    Conversation = apps.get_model("assistant", "Conversation")
    Handoff.objects.filter(conversation__sandbox=True, closed_at__isnull=True).update(
        closed_at=Now()
    )
    Conversation.objects.filter(sandbox=True, state__in=["waiting", "agent"]).update(state="bot")


class Migration(migrations.Migration):
    dependencies = [("assistant", "0015_gap_articles")]

    operations = [migrations.RunPython(sandbox_handoffs_close, migrations.RunPython.noop)]
