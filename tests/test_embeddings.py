"""The traced encoder must give the vectors sentence-transformers gives, for any length."""

import os
import subprocess
import sys
import threading

import numpy as np
from django.conf import settings

from knowledge.embeddings import embedding_model, query_embed, texts_embed

TEXTS = [
    "Hi",
    "How long does delivery to Canada take?",
    "Bikes reach Toronto in five to eight business days; helmets and accessories ship "
    "within two days, and every order over CA$150 ships free.",
    # Longer than the model reads (256 word pieces): both must cut it the same way.
    " ".join(["The frame carries a lifetime warranty against manufacturing defects."] * 40),
    "Können Sie mir sagen, wie ich mein Passwort zurücksetze?",
    "",
]


def test_vectors_match_sentence_transformers_batched_and_alone():
    expected = embedding_model().encode(TEXTS, normalize_embeddings=True)
    batched = texts_embed(texts=TEXTS)
    alone = np.stack([texts_embed(texts=[text])[0] for text in TEXTS])
    assert batched.shape == expected.shape == (len(TEXTS), 384)
    assert np.einsum("ij,ij->i", batched, expected).min() > 0.9999
    assert np.einsum("ij,ij->i", alone, expected).min() > 0.9999
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)


def test_a_text_given_twice_gets_its_vector_at_both_places(settings):
    """Across several batches, so the texts are also reordered by length and put back."""
    settings.KEEL_EMBEDDING_BATCH_SIZE = 2
    texts = [TEXTS[2], TEXTS[1], TEXTS[2], TEXTS[0], TEXTS[1], TEXTS[3]]
    expected = embedding_model().encode(texts, normalize_embeddings=True)
    vectors = texts_embed(texts=texts)
    assert vectors.shape == expected.shape == (6, 384)
    assert np.einsum("ij,ij->i", vectors, expected).min() > 0.9999


def test_no_texts_no_vectors():
    assert texts_embed(texts=[]).shape == (0, 384)


def test_threads_embedding_at_once_get_their_own_vectors():
    """Ingestion embeds on its own thread while requests embed on others."""
    expected = {text: query_embed(query=text) for text in TEXTS[:4]}
    results, errors = {}, []

    def embed(text: str) -> None:
        try:
            for _ in range(5):
                results[text] = texts_embed(texts=[text, *TEXTS])[0]
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=embed, args=(text,)) for text in expected]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for text, vector in expected.items():
        assert float(results[text] @ vector) > 0.9999


# What a request thread of a server process embeds with, and what a thread of this
# process (a worker's or the ingest command's, which never load the ASGI application) does.
THREADS_OF_A_NEW_THREAD = """
import threading, torch
{setup}
counts = []
thread = threading.Thread(target=lambda: counts.append(torch.get_num_threads()))
thread.start(); thread.join()
print(counts[0])
"""


def _new_thread_embedding_threads(setup: str) -> int:
    finished = subprocess.run(
        [sys.executable, "-c", THREADS_OF_A_NEW_THREAD.format(setup=setup)],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    return int(finished.stdout.split()[-1])


def test_a_server_process_embeds_on_one_core_and_others_on_every_core():
    """Short texts for many requests at once: one core each; batches: all of them."""
    every_core = _new_thread_embedding_threads("")  # torch's default
    assert _new_thread_embedding_threads("import assistant.project.asgi") == 1
    assert _new_thread_embedding_threads("import django; django.setup()") == every_core
