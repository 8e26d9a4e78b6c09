"""Answer generation behind one small interface, chosen by settings.

- `ExtractiveBackend` (default): offline and deterministic, see `assistant.answering.extractive`.
- `OpenAICompatibleBackend`: streamed chat completions from any server speaking the
  OpenAI API (OpenAI, Ollama, vLLM, llama.cpp), with `LLM_BASE_URL` and `LLM_MODEL` set.

A backend yields the answer in pieces as it is written. It may fail in any way a network
call can (`GenerationFailed` wraps them); the pipeline then falls back to extractive.
"""

from collections.abc import AsyncIterator, Sequence
from functools import cache
from typing import Protocol

import httpx2
import openai
from django.conf import settings

from assistant.answering.extractive import extractive_answer
from assistant.answering.prompts import DONT_KNOW_REPLY, Turn, chat_messages
from assistant.common.threads import in_thread
from knowledge.model_calls import model_call_check_async
from knowledge.search import Hit


class GenerationFailed(Exception):
    """The model could not give an answer: timeout, HTTP error, broken or empty stream."""


class AnswerBackend(Protocol):
    name: str

    def stream(
        self,
        *,
        question: str,
        search_query: str,
        history: Sequence[Turn],
        sources: Sequence[Hit],
        system: str,
        max_words: int,
        everywhere: frozenset[str],
    ) -> AsyncIterator[str]: ...


class ExtractiveBackend:
    name = "extractive"

    async def stream(
        self,
        *,
        search_query: str,
        sources: Sequence[Hit],
        max_words: int,
        everywhere: frozenset[str],
        **_,
    ) -> AsyncIterator[str]:
        # The search query carries a follow-up's topic, which the bare question lacks.
        answer = await in_thread(extractive_answer)(
            question=search_query, sources=sources, max_words=max_words, everywhere=everywhere
        )
        yield answer or DONT_KNOW_REPLY


class OpenAICompatibleBackend:
    def __init__(self, *, base_url: str, api_key: str, model: str, timeout: float):
        self.model = model
        self.name = f"openai-compatible:{model}"
        # Retries would multiply the customer's wait; the extractive fallback is faster.
        self.client = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key, timeout=timeout, max_retries=0
        )

    async def stream(
        self,
        *,
        question: str,
        history: Sequence[Turn],
        sources: Sequence[Hit],
        system: str,
        **_,
    ) -> AsyncIterator[str]:
        messages = chat_messages(system=system, question=question, history=history, sources=sources)
        async for piece in self._pieces(messages):
            yield piece

    async def complete(self, *, messages: list[dict[str, str]]) -> str:
        """The whole reply at once, for work no customer waits on (the evaluation judge)."""
        return "".join([piece async for piece in self._pieces(messages)])

    async def _pieces(self, messages: list[dict[str, str]]) -> AsyncIterator[str]:
        await model_call_check_async(model="The LLM")
        wrote_anything = False
        try:
            stream = await self.client.chat.completions.create(
                model=self.model, messages=messages, stream=True, temperature=0
            )
            async for event in stream:
                piece = event.choices[0].delta.content if event.choices else None
                if piece:
                    wrote_anything = True
                    yield piece
        except (openai.OpenAIError, httpx2.HTTPError) as error:
            raise GenerationFailed(f"{type(error).__name__}: {error}") from error
        if not wrote_anything:
            raise GenerationFailed("The model returned an empty answer.")


EXTRACTIVE = ExtractiveBackend()


@cache
def answer_backend() -> AnswerBackend:
    if settings.LLM_BASE_URL and settings.LLM_MODEL:
        return OpenAICompatibleBackend(
            base_url=settings.LLM_BASE_URL,
            api_key=settings.LLM_API_KEY,
            model=settings.LLM_MODEL,
            timeout=settings.LLM_TIMEOUT_SECONDS,
        )
    return EXTRACTIVE
