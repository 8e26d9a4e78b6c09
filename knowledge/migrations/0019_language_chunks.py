import django.db.models.deletion
from django.db import migrations, models

# Statement-level triggers with transition tables, as the lexeme counts' (0011). Named to
# fire after `chunk_lexemes_*` (PostgreSQL fires an event's triggers in name order), which
# first lock the knowledge bases' rows: two indexings of one knowledge base then never wait
# on each other's count rows in opposite orders.
LANGUAGE_CHUNKS_TRIGGERS = """
CREATE FUNCTION knowledge_language_chunks_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO knowledge_languagechunks (knowledge_base_id, language, chunks)
    SELECT knowledge_base_id, language, count(*)
    FROM new_chunks
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (knowledge_base_id, language)
        DO UPDATE SET chunks = knowledge_languagechunks.chunks + excluded.chunks;
    RETURN NULL;
END $$;

CREATE FUNCTION knowledge_language_chunks_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE knowledge_languagechunks SET chunks = knowledge_languagechunks.chunks - gone.chunks
    FROM (
        SELECT knowledge_base_id, language, count(*) AS chunks FROM old_chunks GROUP BY 1, 2
    ) gone
    WHERE knowledge_languagechunks.knowledge_base_id = gone.knowledge_base_id
        AND knowledge_languagechunks.language = gone.language;
    RETURN NULL;
END $$;

CREATE FUNCTION knowledge_language_chunks_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO knowledge_languagechunks (knowledge_base_id, language, chunks)
    SELECT knowledge_base_id, language, sum(change)
    FROM (
        SELECT knowledge_base_id, language, -1 AS change FROM old_chunks
        UNION ALL
        SELECT knowledge_base_id, language, 1 FROM new_chunks
    ) versions
    GROUP BY 1, 2
    HAVING sum(change) <> 0
    ORDER BY 1, 2
    ON CONFLICT (knowledge_base_id, language)
        DO UPDATE SET chunks = knowledge_languagechunks.chunks + excluded.chunks;
    RETURN NULL;
END $$;

CREATE TRIGGER chunk_per_language_add AFTER INSERT ON knowledge_chunk
    REFERENCING NEW TABLE AS new_chunks
    FOR EACH STATEMENT EXECUTE FUNCTION knowledge_language_chunks_add();
CREATE TRIGGER chunk_per_language_remove AFTER DELETE ON knowledge_chunk
    REFERENCING OLD TABLE AS old_chunks
    FOR EACH STATEMENT EXECUTE FUNCTION knowledge_language_chunks_remove();
CREATE TRIGGER chunk_per_language_change AFTER UPDATE ON knowledge_chunk
    REFERENCING OLD TABLE AS old_chunks NEW TABLE AS new_chunks
    FOR EACH STATEMENT EXECUTE FUNCTION knowledge_language_chunks_change();
"""
DROP_LANGUAGE_CHUNKS_TRIGGERS = """
DROP TRIGGER chunk_per_language_add ON knowledge_chunk;
DROP TRIGGER chunk_per_language_remove ON knowledge_chunk;
DROP TRIGGER chunk_per_language_change ON knowledge_chunk;
DROP FUNCTION knowledge_language_chunks_add(), knowledge_language_chunks_remove(),
    knowledge_language_chunks_change();
"""
# The chunks already indexed, counted once.
LANGUAGE_CHUNKS_FILL = """
INSERT INTO knowledge_languagechunks (knowledge_base_id, language, chunks)
SELECT knowledge_base_id, language, count(*) FROM knowledge_chunk GROUP BY 1, 2;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0018_chunk_terms_remove_by_key"),
    ]

    operations = [
        migrations.CreateModel(
            name="LanguageChunks",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("language", models.CharField(max_length=12)),
                ("chunks", models.IntegerField()),
                ("knowledge_base", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="knowledge.knowledgebase")),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("knowledge_base", "language"), name="language_chunks_unique_in_kb")],
            },
        ),
        migrations.RunSQL(LANGUAGE_CHUNKS_TRIGGERS, DROP_LANGUAGE_CHUNKS_TRIGGERS),
        migrations.RunSQL(LANGUAGE_CHUNKS_FILL, migrations.RunSQL.noop),
    ]
