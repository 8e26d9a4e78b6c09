from django.db import migrations, models


def contradictions_find(apps, schema_editor):
    """The passages indexed before contradictions were stored, compared once here (the
    service's own code, which reads this migration's columns), a knowledge base at a time.
    Moved here from 0012: the service reads the column added here."""
    from knowledge.conflicts import contradictions_store

    Chunk = apps.get_model("knowledge", "Chunk")
    knowledge_base_ids = Chunk.objects.values_list("knowledge_base_id", flat=True).distinct()
    for knowledge_base_id in knowledge_base_ids:
        contradictions_store(
            chunk_ids=list(
                Chunk.objects.filter(knowledge_base_id=knowledge_base_id).values_list(
                    "pk", flat=True
                )
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0012_contradiction"),
    ]

    operations = [
        migrations.AddField(
            model_name="chunk",
            name="headed_sentence_embeddings",
            field=models.BinaryField(db_default=b"", default=bytes),
        ),
        migrations.RunPython(contradictions_find, migrations.RunPython.noop, elidable=True),
    ]
