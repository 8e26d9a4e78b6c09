"""No model call inside a transaction: under tests an embedding or an LLM call made inside
an atomic block raises, the test case's own transaction aside."""

import pytest
from asgiref.sync import async_to_sync
from django.db import transaction

from assistant.answering.llm import answer_backend
from knowledge.embeddings import query_embed, texts_embed
from knowledge.model_calls import ModelCallInTransaction

QUESTION = "How do I reset my online banking password?"


@pytest.mark.django_db
def test_an_embedding_inside_a_transaction_raises_and_outside_it_does_not():
    assert query_embed(query=QUESTION).shape == (384,)  # in the test's own transaction
    with transaction.atomic(), pytest.raises(ModelCallInTransaction):
        texts_embed(texts=[QUESTION])
    with transaction.atomic(), pytest.raises(ModelCallInTransaction):
        query_embed(query=QUESTION)  # cached by now: raises all the same


@pytest.mark.django_db
def test_an_llm_call_inside_a_transaction_raises_and_outside_it_does_not(llm_server):
    messages = [{"role": "user", "content": QUESTION}]
    complete = async_to_sync(answer_backend().complete)

    assert complete(messages=messages) == "Hello there."
    with transaction.atomic(), pytest.raises(ModelCallInTransaction):
        complete(messages=messages)
    assert len(llm_server.requests) == 1  # the second was never sent
