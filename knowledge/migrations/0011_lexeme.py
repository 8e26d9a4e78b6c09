import django.contrib.postgres.indexes
import django.db.models.deletion
from django.db import migrations, models

# Statement-level triggers with transition tables: one pass per INSERT, DELETE or UPDATE
# however many chunks it touches. Each first locks the knowledge bases' rows, so two
# indexings of one knowledge base never wait on each other's lexeme rows (a deadlock);
# a lexeme no chunk holds any more keeps its row, at 0.
LEXEME_TRIGGERS = """
CREATE FUNCTION knowledge_lexemes_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM knowledge_knowledgebase
    WHERE id IN (SELECT knowledge_base_id FROM new_chunks) ORDER BY id FOR NO KEY UPDATE;
    INSERT INTO knowledge_lexeme (knowledge_base_id, language, lexeme, chunks)
    SELECT knowledge_base_id, language, lexeme, count(*)
    FROM new_chunks, unnest(tsvector_to_array(search)) AS lexeme
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (knowledge_base_id, language, lexeme)
        DO UPDATE SET chunks = knowledge_lexeme.chunks + excluded.chunks;
    RETURN NULL;
END $$;

CREATE FUNCTION knowledge_lexemes_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM knowledge_knowledgebase
    WHERE id IN (SELECT knowledge_base_id FROM old_chunks) ORDER BY id FOR NO KEY UPDATE;
    UPDATE knowledge_lexeme SET chunks = knowledge_lexeme.chunks - gone.chunks
    FROM (
        SELECT knowledge_base_id, language, lexeme, count(*) AS chunks
        FROM old_chunks, unnest(tsvector_to_array(search)) AS lexeme
        GROUP BY 1, 2, 3
    ) gone
    WHERE knowledge_lexeme.knowledge_base_id = gone.knowledge_base_id
        AND knowledge_lexeme.language = gone.language
        AND knowledge_lexeme.lexeme = gone.lexeme;
    RETURN NULL;
END $$;

CREATE FUNCTION knowledge_lexemes_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM knowledge_knowledgebase
    WHERE id IN (
        SELECT knowledge_base_id FROM old_chunks UNION SELECT knowledge_base_id FROM new_chunks
    )
    ORDER BY id FOR NO KEY UPDATE;
    WITH changed AS (  -- rows whose counted values changed (not a quarantine flag)
        SELECT id
        FROM old_chunks JOIN new_chunks USING (id)
        WHERE (old_chunks.knowledge_base_id, old_chunks.language, old_chunks.search)
            IS DISTINCT FROM (new_chunks.knowledge_base_id, new_chunks.language, new_chunks.search)
    )
    INSERT INTO knowledge_lexeme (knowledge_base_id, language, lexeme, chunks)
    SELECT knowledge_base_id, language, lexeme, sum(change)
    FROM (
        SELECT knowledge_base_id, language, search, -1 AS change
        FROM old_chunks WHERE id IN (SELECT id FROM changed)
        UNION ALL
        SELECT knowledge_base_id, language, search, 1
        FROM new_chunks WHERE id IN (SELECT id FROM changed)
    ) versions, unnest(tsvector_to_array(search)) AS lexeme
    GROUP BY 1, 2, 3
    HAVING sum(change) <> 0
    ORDER BY 1, 2, 3
    ON CONFLICT (knowledge_base_id, language, lexeme)
        DO UPDATE SET chunks = knowledge_lexeme.chunks + excluded.chunks;
    RETURN NULL;
END $$;

CREATE TRIGGER chunk_lexemes_add AFTER INSERT ON knowledge_chunk
    REFERENCING NEW TABLE AS new_chunks
    FOR EACH STATEMENT EXECUTE FUNCTION knowledge_lexemes_add();
CREATE TRIGGER chunk_lexemes_remove AFTER DELETE ON knowledge_chunk
    REFERENCING OLD TABLE AS old_chunks
    FOR EACH STATEMENT EXECUTE FUNCTION knowledge_lexemes_remove();
CREATE TRIGGER chunk_lexemes_change AFTER UPDATE ON knowledge_chunk
    REFERENCING OLD TABLE AS old_chunks NEW TABLE AS new_chunks
    FOR EACH STATEMENT EXECUTE FUNCTION knowledge_lexemes_change();
"""
DROP_LEXEME_TRIGGERS = """
DROP TRIGGER chunk_lexemes_add ON knowledge_chunk;
DROP TRIGGER chunk_lexemes_remove ON knowledge_chunk;
DROP TRIGGER chunk_lexemes_change ON knowledge_chunk;
DROP FUNCTION knowledge_lexemes_add(), knowledge_lexemes_remove(), knowledge_lexemes_change();
"""
# The chunks already indexed, counted once.
LEXEMES_COUNT = """
INSERT INTO knowledge_lexeme (knowledge_base_id, language, lexeme, chunks)
SELECT knowledge_base_id, language, lexeme, count(*)
FROM knowledge_chunk, unnest(tsvector_to_array(search)) AS lexeme
GROUP BY 1, 2, 3
"""


class Migration(migrations.Migration):
    # Apart from 0010: its rewrite of every chunk leaves constraint checks pending until
    # it commits, and PostgreSQL builds no index on a table with checks pending.

    dependencies = [
        ("knowledge", "0010_chunk_language"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="chunk",
            index=django.contrib.postgres.indexes.GinIndex(fields=["search"], name="chunk_search_gin"),
        ),
        migrations.CreateModel(
            name='Lexeme',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('language', models.CharField(max_length=12)),
                ('lexeme', models.TextField()),
                ('chunks', models.IntegerField()),
                ('knowledge_base', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='knowledge.knowledgebase')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('knowledge_base', 'language', 'lexeme'), name='lexeme_unique_in_kb')],
            },
        ),
        migrations.AddIndex(
            model_name="document",
            index=models.Index(
                fields=["knowledge_base", "language"],
                include=("chunk_count",),
                name="document_language_chunks",
            ),
        ),
        migrations.RunSQL(LEXEME_TRIGGERS, DROP_LEXEME_TRIGGERS),
        migrations.RunSQL(LEXEMES_COUNT, migrations.RunSQL.noop),
    ]
