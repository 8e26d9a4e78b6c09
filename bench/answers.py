"""The answer path: time to first token and to the stored answer, as the server measures it.

Each question starts a fresh conversation and goes through `assistant.answering.pipeline.answer`
(store, search, generate, stream, store) in one event loop, with nobody listening on the
channel layer. For the OpenAI-compatible backend a local test server answers with a fixed
time to first token and token rate, so what remains is Keel's own overhead.
"""

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import openai
import torch
from django.test import override_settings

from assistant.answering import pipeline
from assistant.answering.llm import answer_backend
from assistant.common.threads import in_thread
from assistant.models import Citation, Conversation, Message, Workspace
from assistant.rails.grounding import SentenceSplitter
from bench.llm_server import FakeLLMServer, Reply, first_source
from bench.measurements import percentile_ms
from knowledge.embeddings import SERVER_THREADS, embedding_threads_set, vector_cache_clear

STAGES = ("question_and_input_rails", "store_and_retrieval", "generation", "output_rails")
LLM_FIRST_TOKEN_SECONDS = 0.2
LLM_TOKEN_SECONDS = 0.005
LLM_ANSWER_WORDS = 40


@dataclass(frozen=True)
class Timed:
    question: str
    answer: Message | None  # None for a question the policy hands to a person
    wall_ms: float  # pipeline.answer from call to return, the store included


@dataclass(frozen=True)
class Streamed:
    """The test model's own time for one request, as a bare client sees it."""

    first_sentence_ms: float  # until its first sentence had arrived whole
    whole_ms: float


def answers_time(
    *, workspace: Workspace, questions: Sequence[str], warm_up: int = 0
) -> list[Message | None]:
    timed = answers_timed(workspace=workspace, questions=questions, warm_up=warm_up)
    return [t.answer for t in timed]


def answers_timed(
    *, workspace: Workspace, questions: Sequence[str], warm_up: int = 0
) -> list[Timed]:
    """Answers, one event loop (as in a server process); the first `warm_up` not kept."""
    answer_backend.cache_clear()  # its HTTP client belongs to one event loop

    async def all_answers() -> list[Timed]:
        answers = []
        for question in [*questions[:warm_up], *questions]:
            conversation = await in_thread(Conversation.objects.create)(
                workspace=workspace, visitor_key=f"bench-{time.perf_counter_ns()}"
            )
            started = time.perf_counter()
            answer = await pipeline.answer(conversation=conversation, text=question)
            answers.append(Timed(question, answer, (time.perf_counter() - started) * 1000))
        return answers[warm_up:]

    return asyncio.run(all_answers())


@contextmanager
def as_in_a_server_process() -> Iterator[None]:
    """Embeddings on as many cores as `assistant.project.asgi` gives them; the bench's batches
    (ingestion, the scale section) then get every core back."""
    cores = torch.get_num_threads()
    embedding_threads_set(threads=SERVER_THREADS)
    try:
        yield
    finally:
        embedding_threads_set(threads=cores)


def answer_path_measure(
    *, workspace: Workspace, questions: Sequence[str], expected_files: Sequence[str]
) -> dict:
    with as_in_a_server_process():
        return _answer_path_measure(
            workspace=workspace, questions=questions, expected_files=expected_files
        )


def _answer_path_measure(
    *, workspace: Workspace, questions: Sequence[str], expected_files: Sequence[str]
) -> dict:
    cold = answers_timed(workspace=workspace, questions=questions)
    warm = answers_timed(workspace=workspace, questions=questions)
    vector_cache_clear()  # each question embedded as new, as a customer's is
    with (
        FakeLLMServer(respond=_grounded_reply) as server,
        override_settings(LLM_BASE_URL=server.base_url, LLM_MODEL="bench-model"),
    ):
        generated = answers_timed(workspace=workspace, questions=questions, warm_up=3)
        bare = bare_streams_timed(base_url=server.base_url, requests=list(server.requests))
    answer_backend.cache_clear()
    by_llm = [t for t in generated if t.answer and t.answer.backend.startswith("openai")]
    return {
        "questions": len(questions),
        "extractive_cold": _timings(cold),
        "extractive_warm": _timings(warm),
        "extractive_cites_expected_document": _citing_expected(
            [timed.answer for timed in cold], expected_files
        ),
        "llm_test_server": {
            "first_token_ms": LLM_FIRST_TOKEN_SECONDS * 1000,
            "bare_client_first_sentence_p50_ms": percentile_ms(
                [streamed.first_sentence_ms / 1000 for streamed in bare.values()], 50
            ),
            "bare_client_stream_p50_ms": percentile_ms(
                [streamed.whole_ms / 1000 for streamed in bare.values()], 50
            ),
            "answered_by_llm": len(by_llm),
            **_timings(
                by_llm,
                first_token_offset=lambda t: bare[t.question].first_sentence_ms,
                total_offset=lambda t: bare[t.question].whole_ms,
            ),
        },
    }


def bare_streams_timed(*, base_url: str, requests: Sequence[dict]) -> dict[str, Streamed]:
    """Each request Keel sent, sent again by the bare `openai` client, by question (the
    request's last message): the model's own time, HTTP and the test server included, is
    what Keel's overhead is measured beyond."""

    async def all_streams() -> dict[str, Streamed]:
        client = openai.AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0)
        streamed = {}
        for request in requests:
            started, first_sentence = time.perf_counter(), None
            sentences = SentenceSplitter()
            stream = await client.chat.completions.create(
                model=request["model"], messages=request["messages"], stream=True, temperature=0
            )
            async for event in stream:
                piece = event.choices[0].delta.content if event.choices else None
                if piece and sentences.feed(piece) and first_sentence is None:
                    first_sentence = time.perf_counter()
            whole = time.perf_counter()
            streamed[request["messages"][-1]["content"]] = Streamed(
                first_sentence_ms=((first_sentence or whole) - started) * 1000,
                whole_ms=(whole - started) * 1000,
            )
        await client.close()
        return streamed

    return asyncio.run(all_streams())


def _grounded_reply(body: dict) -> Reply:
    """A model that answers with the first words of source 1, cited, so the grounding
    rail keeps its sentences (it is timed, not second-guessed); always LLM_ANSWER_WORDS."""
    words = [*(first_source(body).split() * LLM_ANSWER_WORDS)[: LLM_ANSWER_WORDS - 1], "[1]."]
    return Reply(
        pieces=[word + " " for word in words],
        first_token_delay=LLM_FIRST_TOKEN_SECONDS,
        token_delay=LLM_TOKEN_SECONDS,
    )


def _citing_expected(answers: Sequence[Message | None], expected_files: Sequence[str]) -> int:
    """Answers that cite the document the question was written for."""
    return sum(
        answer is not None and cites(answer, expected)
        for answer, expected in zip(answers, expected_files, strict=True)
    )


def cites(answer: Message, expected_file: str) -> bool:
    return Citation.objects.filter(
        message=answer, document__source__endswith="/" + expected_file
    ).exists()


def _timings(
    timed: Sequence[Timed],
    *,
    first_token_offset: Callable[[Timed], float] = lambda timed: 0.0,
    total_offset: Callable[[Timed], float] = lambda timed: 0.0,
) -> dict:
    """First words and the whole answer (its store included), each less the offset."""
    answered = [t for t in timed if t.answer is not None]
    answers = [t.answer for t in answered]
    first = [
        (t.answer.first_token_ms - first_token_offset(t)) / 1000
        for t in answered
        if t.answer.first_token_ms
    ] or [float("nan")]
    total = [(t.wall_ms - total_offset(t)) / 1000 for t in answered]
    retrieval = [a.retrieval_ms / 1000 for a in answers if a.retrieval_ms is not None]
    stages = {
        stage: percentile_ms([a.trace["stages_ms"][stage] / 1000 for a in answers], 50)
        for stage in STAGES
    }
    # The stored answer holds the times up to its store; the wall clock has the store too.
    stages["store"] = percentile_ms([(t.wall_ms - t.answer.total_ms) / 1000 for t in answered], 50)
    return {
        "answered": sum(a.outcome == Message.Outcome.ANSWERED for a in answers),
        "handed_to_a_person": len(timed) - len(answers),
        "retrieval_p50_ms": percentile_ms(retrieval, 50),
        "first_token_p50_ms": percentile_ms(first, 50),
        "first_token_p95_ms": percentile_ms(first, 95),
        "total_p50_ms": percentile_ms(total, 50),
        "total_p95_ms": percentile_ms(total, 95),
        "stages_p50_ms": stages,
    }
