from django.db import migrations, models


class Migration(migrations.Migration):
    """Passages indexed before it have no headed sentences and no contradictions stored:
    `INDEX_VERSION` 9 has `manage.py reindex` index them again, which stores both (a
    comparison here would run today's service code against yesterday's rows, and slowly)."""

    dependencies = [
        ("knowledge", "0012_contradiction"),
    ]

    operations = [
        migrations.AddField(
            model_name="chunk",
            name="headed_sentence_embeddings",
            field=models.BinaryField(db_default=b"", default=bytes),
        ),
    ]
