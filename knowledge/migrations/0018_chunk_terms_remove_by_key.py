from importlib import import_module

from django.db import migrations

chunk_terms = import_module("knowledge.migrations.0017_chunk_terms")

# Removing a chunk's postings joined the gone (lexeme, chunk) pairs to the postings in one
# statement. The planner guesses that join of the gone chunks' words to `knowledge_lexeme`
# yields one row (three equalities, two of them the same for every row), so it probed the
# postings' index by lexeme alone and filtered on the chunk: every gone pair read all the
# postings of its word. Deleting 2,000 chunks read 12.5 million postings (9 s), and a
# knowledge base of 10k chunks took minutes. The pairs are now found first (MATERIALIZED),
# so each is one probe of the primary key on both columns.
TERMS_REMOVE = f"""
    WITH gone AS MATERIALIZED (
        {chunk_terms.TERMS_OF.format(chunks="old_chunks", weight="", where="{where}")}
    )
    DELETE FROM knowledge_chunkterm posting
    USING gone
    WHERE posting.lexeme_id = gone.lexeme_id AND posting.chunk_id = gone.chunk_id;
"""


def functions(remove: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION knowledge_chunk_terms_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{remove.format(where="true")}
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION knowledge_chunk_terms_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{remove.format(where=chunk_terms.CHANGED)}
{chunk_terms.TERMS_ADD.format(where=chunk_terms.CHANGED)}
    RETURN NULL;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0017_chunk_terms"),
    ]

    operations = [
        migrations.RunSQL(functions(TERMS_REMOVE), functions(chunk_terms.TERMS_REMOVE)),
    ]
