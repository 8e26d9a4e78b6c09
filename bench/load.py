"""Load: many customers chatting at once with one real Keel server process (daphne), over
real websockets, answered through the OpenAI-compatible backend by a local test server
with a fixed time to first token and token rate.

Each customer connects, says hello as the widget does, then asks a few of the demo
questions with a pause between them, as a person reading the answers would. Levels of
concurrent customers rise until p95 time to first words (beyond the model's own) passes
the target, or errors appear: the knee. The customers run in this process, on the same
machine, so they take some of its CPU too.
"""

import asyncio
import html
import json
import os
import random
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from websockets.asyncio.client import connect

from bench.llm_server import FakeLLMServer, Reply, first_source

LEVELS = (100, 200, 400, 800)
DEFAULT_CUSTOMERS = 200  # the level the target is stated for
QUESTIONS_PER_CUSTOMER = 3
THINK_SECONDS = (15.0, 45.0)  # reading the answer, then typing the next question
# Customers arrive spread over one mean pause, so N chats in progress ask at their steady
# rate from the start. (Over 10 s instead, 200 customers put 20 questions a second on the
# server for those 10 s, three times the steady rate: p95 first words 3.1 s, 2-core VM.)
ARRIVAL_SECONDS = sum(THINK_SECONDS) / 2
ANSWER_TIMEOUT_SECONDS = 60.0
SERVER_START_SECONDS = 600  # loading the model on a busy shared machine took over 120 s
LLM_FIRST_TOKEN_SECONDS = 0.5
LLM_TOKEN_SECONDS = 0.02
LLM_ANSWER_WORDS = 30
FIRST_WORDS_TARGET_SECONDS = 1.0  # p95, beyond the model's own first token
STREAM_MARK = "beforeend:#message-"
WARM_UP_QUESTIONS = 3


@dataclass(frozen=True)
class Turn:
    first_words_s: float | None
    answered_s: float | None
    model_first_words_s: float | None = None  # when the model had written what was shown first
    error: str = ""
    handed_over: bool = False  # the policy sent the question to a person: no answer comes


def load_measure(*, workspace_public_key: str, questions: list[str], levels=LEVELS) -> dict:
    """The levels' figures; stops after the first level past the knee."""
    with FakeLLMServer(respond=_model_reply) as model:
        server, url = keel_server_start(
            environment={
                "LLM_BASE_URL": model.base_url,
                "LLM_MODEL": "bench-model",
                "LLM_API_KEY": "bench",
            }
        )
        try:
            # The first answers load the models into the server: not what is measured.
            warm_up = _customer(
                url=url,
                public_key=workspace_public_key,
                arrive_after=0,
                questions=questions[:WARM_UP_QUESTIONS],
                pauses=[0] * WARM_UP_QUESTIONS,
            )
            asyncio.run(warm_up)
            results = []
            for customers in levels:
                figures = asyncio.run(
                    _level_run(
                        customers=customers,
                        url=url,
                        public_key=workspace_public_key,
                        questions=questions,
                        server=psutil.Process(server.pid),
                    )
                )
                results.append(figures)
                print(
                    f"  {customers} customers: first words p95 "
                    f"{figures['first_words_p95_ms_beyond_model']} ms beyond the model, "
                    f"{figures['errors']} errors"
                )
                if figures["errors"] or not figures["within_target"]:
                    break
        finally:
            server.terminate()
            server.wait(timeout=30)
    within = [level["customers"] for level in results if level["within_target"]]
    return {
        "method": {
            "questions_per_customer": QUESTIONS_PER_CUSTOMER,
            "arrival_seconds": ARRIVAL_SECONDS,
            "think_seconds": list(THINK_SECONDS),
            "model_first_token_ms": LLM_FIRST_TOKEN_SECONDS * 1000,
            "model_stream_ms": _model_stream_seconds() * 1000,
            "server": "one daphne process, extractive fallback, channel layer in memory",
        },
        "levels": results,
        "largest_level_within_target": max(within, default=None),
        "target": f"{DEFAULT_CUSTOMERS} customers: p95 first words ≤ "
        f"{FIRST_WORDS_TARGET_SECONDS * 1000:.0f} ms beyond the model's, no errors",
    }


def _model_reply(body: dict) -> Reply:
    """The first words of source 1, cited: the grounding rail keeps them."""
    words = [*(first_source(body).split() * LLM_ANSWER_WORDS)[: LLM_ANSWER_WORDS - 1], "[1]."]
    return Reply(
        pieces=[word + " " for word in words],
        first_token_delay=LLM_FIRST_TOKEN_SECONDS,
        token_delay=LLM_TOKEN_SECONDS,
    )


def _model_stream_seconds() -> float:
    return LLM_FIRST_TOKEN_SECONDS + LLM_TOKEN_SECONDS * (LLM_ANSWER_WORDS - 1)


def keel_server_start(
    *, environment: dict[str, str], output=subprocess.DEVNULL
) -> tuple[subprocess.Popen, str]:
    """Keel as production runs it (DEBUG off), on the bench database, with `environment`
    added, rate limits lifted (every simulated customer comes from one address); its
    output to `output`. Returns the process and its `host:port`."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unlimited = "1000000/minute"
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant.project.server", "-b", "127.0.0.1", "-p", str(port),
         "assistant.project.asgi:application"],
        env={
            **os.environ,
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key-" + "b3nch" * 8),
            "SECURE_COOKIES": "0",
            "KEEL_RATE_LIMIT_CONNECTIONS_PER_IP": unlimited,
            "KEEL_RATE_LIMIT_MESSAGES_PER_VISITOR": unlimited,
            "KEEL_RATE_LIMIT_MESSAGES_PER_IP": unlimited,
            "KEEL_RATE_LIMIT_MESSAGES_PER_SOCKET": unlimited,
            **environment,
        },
        cwd=Path(__file__).resolve().parent.parent,
        stdout=output,
        stderr=output if output is not subprocess.DEVNULL else None,
    )  # fmt: skip
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"Keel did not start for the bench (exit {process.poll()}).")


async def _level_run(
    *, customers: int, url: str, public_key: str, questions: list[str], server: psutil.Process
) -> dict:
    rng = random.Random(customers)
    memory_before = server.memory_info().rss
    peak = [memory_before]

    async def sample_memory():
        while True:
            peak[0] = max(peak[0], server.memory_info().rss)
            await asyncio.sleep(0.5)

    sampler = asyncio.create_task(sample_memory())
    started = time.perf_counter()
    turns = await asyncio.gather(
        *(
            _customer(
                url=url,
                public_key=public_key,
                arrive_after=rng.uniform(0, ARRIVAL_SECONDS),
                questions=rng.sample(questions, QUESTIONS_PER_CUSTOMER),
                pauses=[rng.uniform(*THINK_SECONDS) for _ in range(QUESTIONS_PER_CUSTOMER)],
            )
            for _ in range(customers)
        )
    )
    seconds = time.perf_counter() - started
    sampler.cancel()
    from bench.measurements import percentile_ms

    flat = [turn for customer_turns in turns for turn in customer_turns]
    errors = [turn.error for turn in flat if turn.error]
    handed_over = sum(turn.handed_over for turn in flat)
    shown = [t for t in flat if t.first_words_s]
    first = [t.first_words_s - t.model_first_words_s for t in shown]
    first_seen = [t.first_words_s - LLM_FIRST_TOKEN_SECONDS for t in shown]
    last = [t.answered_s - _model_stream_seconds() for t in flat if t.answered_s]
    first_p95 = percentile_ms(first, 95) if first else None
    return {
        "customers": customers,
        "answers": len(flat) - len(errors) - handed_over,
        "handed_to_a_person": handed_over,
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "seconds": round(seconds, 1),
        "answers_per_second": round((len(flat) - len(errors) - handed_over) / seconds, 2),
        "first_words_p50_ms_beyond_model": percentile_ms(first, 50) if first else None,
        "first_words_p95_ms_beyond_model": first_p95,
        "first_words_p50_ms_beyond_model_first_token": percentile_ms(first_seen, 50)
        if first_seen
        else None,
        "first_words_p95_ms_beyond_model_first_token": percentile_ms(first_seen, 95)
        if first_seen
        else None,
        "answered_p50_ms_beyond_model": percentile_ms(last, 50) if last else None,
        "answered_p95_ms_beyond_model": percentile_ms(last, 95) if last else None,
        "server_memory_mib_before": round(memory_before / 2**20),
        "server_memory_mib_peak": round(peak[0] / 2**20),
        "within_target": not errors
        and first_p95 is not None
        and first_p95 <= FIRST_WORDS_TARGET_SECONDS * 1000,
    }


async def _customer(
    *, url: str, public_key: str, arrive_after: float, questions: list[str], pauses: list[float]
) -> list[Turn]:
    await asyncio.sleep(arrive_after)
    turns = []
    try:
        async with connect(
            f"ws://{url}/ws/chat/{public_key}/", origin=f"http://{url}", open_timeout=30
        ) as chat:
            await chat.send(json.dumps({"type": "hello", "visitor": "", "page_origin": ""}))
            await asyncio.wait_for(_until(chat, 'id="session"'), ANSWER_TIMEOUT_SECONDS)
            for question, pause in zip(questions, pauses, strict=True):
                turns.append(await _ask(chat, question))
                if turns[-1].handed_over:
                    break  # a person answers from here on
                await asyncio.sleep(pause)
    except Exception as error:  # a refused or dropped socket is an error of the run
        turns.append(Turn(None, None, error=type(error).__name__))
    return turns


async def _ask(chat, question: str) -> Turn:
    asked = time.perf_counter()
    await chat.send(json.dumps({"type": "ask", "message": question}))
    first_words = model_first_words = None
    try:
        async with asyncio.timeout(ANSWER_TIMEOUT_SECONDS):
            while True:
                frame = await chat.recv()
                if first_words is None and STREAM_MARK in frame:
                    first_words = time.perf_counter() - asked
                    model_first_words = _model_seconds_to_write(frame)
                if _answer_finished(frame):
                    return Turn(first_words, time.perf_counter() - asked, model_first_words)
                if _handed_over(frame):
                    return Turn(None, None, handed_over=True)
    except TimeoutError:
        return Turn(first_words, None, error="no answer within 60 s")


async def _until(chat, fragment: str) -> str:
    while True:
        frame = await chat.recv()
        if fragment in frame:
            return frame


def _model_seconds_to_write(frame: str) -> float:
    """When the test model had sent the words of this first streamed piece: Keel shows a
    sentence only once it is whole and checked, so its first words wait for the model's
    first sentence, which is the model's time, not Keel's. (One word per token; a first
    sentence the rails removed makes Keel's share look larger, not smaller.)"""
    text = re.sub(r"<[^>]+>", "", frame)
    words = len(html.unescape(text).split())
    return LLM_FIRST_TOKEN_SECONDS + LLM_TOKEN_SECONDS * max(words - 1, 0)


def _handed_over(frame: str) -> bool:
    """The customer's status line no longer offers a person: one is being fetched."""
    return 'id="handoff-status"' in frame and "chat__person-button" not in frame


def _answer_finished(frame: str) -> bool:
    """The answer's final partial, which replaces the one being written."""
    return (
        'class="message message--assistant"' in frame
        and "hx-swap-oob" in frame
        and "message__text--streaming" not in frame
    )
