import django.db.models.deletion
from django.db import migrations, models

# The postings table: one narrow row per searchable chunk and lexeme it holds, its weight
# carried in the primary key's index (INCLUDE), so the full-text leg reads that index alone.
# The weight is ts_rank of the lexeme alone, with the weights the search used to rank by
# (labels D, C, B for the text, A for the heading path: a heading's word counts more than
# the text's, but less than ts_rank's default 2.5 times), normalisation 0 (none): a function
# of the chunk's tsvector and the lexeme only.
CHUNK_TERMS = """
CREATE TABLE knowledge_chunkterm (
    lexeme_id bigint NOT NULL,
    chunk_id bigint NOT NULL,
    weight real NOT NULL,
    CONSTRAINT knowledge_chunkterm_pkey PRIMARY KEY (lexeme_id, chunk_id) INCLUDE (weight)
);

CREATE FUNCTION knowledge_term_weight(search tsvector, lexeme text) RETURNS real
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ts_rank('{0.1, 0.2, 0.6, 1.0}', search, quote_literal(lexeme)::tsquery, 0);
"""
DROP_CHUNK_TERMS = """
DROP FUNCTION knowledge_term_weight(tsvector, text);
DROP TABLE knowledge_chunkterm;
"""

# Statement-level triggers with transition tables, as the lexeme counts' (0011). PostgreSQL
# fires an event's triggers in the order of their names: `chunk_lexemes_*` (which add the
# `knowledge_lexeme` rows these look up) before `chunk_terms_*`.
TERMS_OF = """
    SELECT lexeme.id AS lexeme_id, chunk.id AS chunk_id{weight}
    FROM {chunks} chunk
    CROSS JOIN LATERAL unnest(tsvector_to_array(chunk.search)) AS term
    JOIN knowledge_lexeme lexeme ON lexeme.knowledge_base_id = chunk.knowledge_base_id
        AND lexeme.language = chunk.language AND lexeme.lexeme = term
    WHERE {where}
"""
WEIGHT = ", knowledge_term_weight(chunk.search, term)"
TERMS_REMOVE = f"""
    DELETE FROM knowledge_chunkterm posting
    USING ({TERMS_OF.format(chunks="old_chunks", weight="", where="{where}")}) gone
    WHERE posting.lexeme_id = gone.lexeme_id AND posting.chunk_id = gone.chunk_id;
"""
TERMS_ADD = f"""
    INSERT INTO knowledge_chunkterm (lexeme_id, chunk_id, weight)
    {TERMS_OF.format(chunks="new_chunks", weight=WEIGHT, where="NOT chunk.quarantined AND {where}")};
"""
# Rows whose postings changed: another tsvector, language or knowledge base, or quarantine.
CHANGED = """chunk.id IN (
        SELECT id FROM old_chunks JOIN new_chunks USING (id)
        WHERE (old_chunks.knowledge_base_id, old_chunks.language, old_chunks.search,
               old_chunks.quarantined)
            IS DISTINCT FROM (new_chunks.knowledge_base_id, new_chunks.language,
                              new_chunks.search, new_chunks.quarantined)
    )"""
TERMS_TRIGGERS = f"""
CREATE FUNCTION knowledge_chunk_terms_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{TERMS_ADD.format(where="true")}
    RETURN NULL;
END $$;

CREATE FUNCTION knowledge_chunk_terms_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{TERMS_REMOVE.format(where="true")}
    RETURN NULL;
END $$;

CREATE FUNCTION knowledge_chunk_terms_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{TERMS_REMOVE.format(where=CHANGED)}
{TERMS_ADD.format(where=CHANGED)}
    RETURN NULL;
END $$;

CREATE TRIGGER chunk_terms_add AFTER INSERT ON knowledge_chunk
    REFERENCING NEW TABLE AS new_chunks
    FOR EACH STATEMENT EXECUTE FUNCTION knowledge_chunk_terms_add();
CREATE TRIGGER chunk_terms_remove AFTER DELETE ON knowledge_chunk
    REFERENCING OLD TABLE AS old_chunks
    FOR EACH STATEMENT EXECUTE FUNCTION knowledge_chunk_terms_remove();
CREATE TRIGGER chunk_terms_change AFTER UPDATE ON knowledge_chunk
    REFERENCING OLD TABLE AS old_chunks NEW TABLE AS new_chunks
    FOR EACH STATEMENT EXECUTE FUNCTION knowledge_chunk_terms_change();
"""
DROP_TERMS_TRIGGERS = """
DROP TRIGGER chunk_terms_add ON knowledge_chunk;
DROP TRIGGER chunk_terms_remove ON knowledge_chunk;
DROP TRIGGER chunk_terms_change ON knowledge_chunk;
DROP FUNCTION knowledge_chunk_terms_add(), knowledge_chunk_terms_remove(),
    knowledge_chunk_terms_change();
"""
# The chunks already indexed, weighed once.
TERMS_FILL = f"""
INSERT INTO knowledge_chunkterm (lexeme_id, chunk_id, weight)
{TERMS_OF.format(chunks="knowledge_chunk", weight=WEIGHT, where="NOT chunk.quarantined")};
ANALYZE knowledge_chunkterm;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0016_website_sources"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChunkTerm",
            fields=[
                ("pk", models.CompositePrimaryKey("lexeme", "chunk", blank=True, editable=False, primary_key=True, serialize=False)),
                ("weight", models.FloatField()),
                ("chunk", models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="knowledge.chunk")),
                ("lexeme", models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="knowledge.lexeme")),
            ],
            options={"managed": False},
        ),
        migrations.RunSQL(CHUNK_TERMS, DROP_CHUNK_TERMS),
        migrations.RunSQL(TERMS_TRIGGERS, DROP_TERMS_TRIGGERS),
        migrations.RunSQL(TERMS_FILL, migrations.RunSQL.noop),
    ]
