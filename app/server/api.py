"""The HTTP routes: OpenAI's /v1/models, /v1/chat/completions and /v1/completions.

Every route hands its work to the one generation thread (scheduler.GenerationQueue) and waits
without blocking the event loop. A client that disconnects sets its request's cancel flag:
a waiting request is skipped, a running one stops between two tokens. A streamed reply is
server-sent events in OpenAI's chunk format, ending with `data: [DONE]`; a request that cannot
be served (does not fit, bad field) is refused with a status and a sentence before any
event is sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sse_starlette import EventSourceResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp

from app.engine.types import ContextOverflow
from app.errors import UserError
from app.server.engine_adapter import EngineAdapter, Prepared, RunResult
from app.server.errors import BadRequest, QueueFull
from app.server.protocol import (
    ChatRequest,
    CompletionRequest,
    error_body,
    model_card,
    new_id,
    now,
    usage,
)
from app.server.scheduler import GenerationQueue, JobSkipped
from app.server.security import Guard, GuardMiddleware
from app.server.tools import tool_calls_json

_log = logging.getLogger(__name__)
_SEND_TIMEOUT_S = 60.0  # a client that stops reading a stream does not hold the model longer


def _error(status: int, message: str, kind: str, code: str | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, kind, code), status_code=status, headers=headers)


def _validation_sentence(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "The request body is not valid."
    first = errors[0]
    if first.get("type") == "json_invalid":
        return "The request body is not valid JSON."
    where = ".".join(str(p) for p in first.get("loc", ())[1:])  # ("body", "messages", 0, "role")
    msg = str(first.get("msg", "is not valid")).removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(400, _validation_sentence(exc), "invalid_request_error")

    @app.exception_handler(QueueFull)
    async def _busy(_req: Request, exc: QueueFull) -> JSONResponse:
        return _error(429, str(exc), "rate_limit_error", "model_busy", {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(JobSkipped)
    async def _stopping(_req: Request, _exc: JobSkipped) -> JSONResponse:
        return _error(503, "The server is stopping; the request was not run.", "server_error", "shutting_down")

    @app.exception_handler(UserError)
    async def _user(_req: Request, exc: UserError) -> JSONResponse:
        if isinstance(exc, BadRequest | ContextOverflow):
            return _error(400, str(exc), "invalid_request_error")
        return _error(500, str(exc), "server_error")

    @app.exception_handler(HTTPException)
    async def _http(_req: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), "invalid_request_error")

    @app.exception_handler(Exception)
    async def _bug(_req: Request, exc: Exception) -> JSONResponse:
        _log.exception("request failed", exc_info=exc)
        return _error(500, f"The server failed unexpectedly ({type(exc).__name__}); see its log.", "server_error")


async def _wait_disconnect(request: Request) -> None:
    """Returns when the client goes away (the body was read already: only a disconnect comes)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


class _Job:
    """One request's work on the generation thread and its messages back to the event loop."""

    def __init__(self, adapter: EngineAdapter, prepare: Callable[[], Prepared]) -> None:
        self.cancel = threading.Event()
        self.items: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._adapter = adapter
        self._prepare = prepare

    def _put(self, kind: str, value: Any) -> None:
        try:
            self._loop.call_soon_threadsafe(self.items.put_nowait, (kind, value))
        except RuntimeError:  # the event loop is gone (server stopping): stop generating
            self.cancel.set()

    def __call__(self) -> RunResult:
        try:
            prep = self._prepare()
            self._put("ready", prep)
            result = self._adapter.run(prep, self.cancel, lambda text: self._put("text", text))
        except BaseException as exc:
            self._put("error", exc)
            raise
        self._put("done", result)
        return result


async def _until(request: Request, job: _Job, waiter: asyncio.Future[Any]) -> Any:
    """The waiter's result, or None after setting the job's cancel flag if the client left."""
    gone = asyncio.ensure_future(_wait_disconnect(request))
    try:
        done, _ = await asyncio.wait({waiter, gone}, return_when=asyncio.FIRST_COMPLETED)
        if waiter in done:
            return waiter.result()
        job.cancel.set()
        waiter.cancel()
        return None
    finally:
        gone.cancel()


def create_app(adapter: EngineAdapter, queue: GenerationQueue, guard: Guard) -> ASGIApp:
    """The ASGI application: routes behind the Guard."""
    app = FastAPI(title="InternLM2 Desktop local server", docs_url=None, redoc_url=None, openapi_url=None)
    _install_handlers(app)
    created = now()

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "busy": queue.running, "waiting": queue.waiting}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [model_card(adapter.model_id, created, adapter.n_ctx)]}

    @app.get("/v1/models/{model_id:path}")
    async def model(model_id: str) -> JSONResponse:
        if model_id != adapter.model_id:
            return _error(404, f"The model {model_id!r} is not served here; GET /v1/models lists it.",
                          "invalid_request_error", "model_not_found")
        return JSONResponse(model_card(adapter.model_id, created, adapter.n_ctx))

    @app.post("/v1/chat/completions")
    async def chat(body: ChatRequest, request: Request) -> Response:
        return await _serve(request, body, lambda: adapter.prepare_chat(body), chat=True)

    @app.post("/v1/completions")
    async def completions(body: CompletionRequest, request: Request) -> Response:
        return await _serve(request, body, lambda: adapter.prepare_completion(body), chat=False)

    async def _serve(request: Request, body: ChatRequest | CompletionRequest,
                     prepare: Callable[[], Prepared], *, chat: bool) -> Response:
        job = _Job(adapter, prepare)
        future = asyncio.wrap_future(queue.submit(job, job.cancel))
        if not body.stream:
            result = await _until(request, job, future)
            if result is None:
                return Response(status_code=499)
            return JSONResponse(_chat_body(adapter, result) if chat else _completion_body(adapter, result))
        first = asyncio.ensure_future(job.items.get())
        try:
            item = await _until(request, job, first)
        finally:
            first.cancel()
        if item is None:
            return Response(status_code=499)
        kind, value = item
        if kind == "error":
            raise value
        chunks = _ChatChunks(adapter.model_id) if chat else _CompletionChunks(adapter.model_id)
        return EventSourceResponse(_events(job, chunks, body), ping=15, send_timeout=_SEND_TIMEOUT_S)

    return GuardMiddleware(app, guard)


# -- response bodies ----------------------------------------------------------------------------
def _finish(result: RunResult) -> str:
    return "stop" if result.finish_reason == "cancelled" else result.finish_reason


def _usage(result: RunResult) -> dict[str, Any]:
    return usage(result.prompt_tokens, result.completion_tokens, result.cached_tokens)


def _chat_body(adapter: EngineAdapter, result: RunResult) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": result.content}
    if result.tool_call is not None:
        message["content"] = result.content or None
        message["tool_calls"] = tool_calls_json(result.tool_call)
    return {"id": new_id("chatcmpl"), "object": "chat.completion", "created": now(), "model": adapter.model_id,
            "choices": [{"index": 0, "message": message, "finish_reason": _finish(result), "logprobs": None}],
            "usage": _usage(result)}


def _completion_body(adapter: EngineAdapter, result: RunResult) -> dict[str, Any]:
    return {"id": new_id("cmpl"), "object": "text_completion", "created": now(), "model": adapter.model_id,
            "choices": [{"index": 0, "text": result.content, "finish_reason": _finish(result), "logprobs": None}],
            "usage": _usage(result)}


def _event(data: dict[str, Any]) -> dict[str, str]:
    return {"data": json.dumps(data, ensure_ascii=False)}


class _ChatChunks:
    """chat.completion.chunk objects of one stream."""

    def __init__(self, model_id: str) -> None:
        self._head = {"id": new_id("chatcmpl"), "object": "chat.completion.chunk", "created": now(),
                      "model": model_id}

    def chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**self._head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}

    def first(self) -> dict[str, Any] | None:
        return self.chunk({"role": "assistant", "content": ""})

    def text(self, text: str) -> dict[str, Any]:
        return self.chunk({"content": text})

    def calls(self, result: RunResult) -> dict[str, Any] | None:
        if result.tool_call is None:
            return None
        calls = tool_calls_json(result.tool_call)
        return self.chunk({"tool_calls": [{"index": i, **c} for i, c in enumerate(calls)]})

    def end(self, finish: str) -> dict[str, Any]:
        return self.chunk({}, finish)

    def bare(self) -> dict[str, Any]:
        return {**self._head, "choices": []}


class _CompletionChunks(_ChatChunks):
    """text_completion objects of one stream."""

    def __init__(self, model_id: str) -> None:
        self._head = {"id": new_id("cmpl"), "object": "text_completion", "created": now(), "model": model_id}

    def _choice(self, text: str, finish: str | None) -> dict[str, Any]:
        return {**self._head, "choices": [{"index": 0, "text": text, "finish_reason": finish, "logprobs": None}]}

    def first(self) -> dict[str, Any] | None:
        return None

    def text(self, text: str) -> dict[str, Any]:
        return self._choice(text, None)

    def calls(self, result: RunResult) -> dict[str, Any] | None:
        return None

    def end(self, finish: str) -> dict[str, Any]:
        return self._choice("", finish)


async def _events(job: _Job, chunks: _ChatChunks, body: ChatRequest | CompletionRequest,
                  ) -> AsyncIterator[dict[str, str]]:
    """The stream: text as it comes, then the end (usage on it), then [DONE]. However it ends
    (the reply done, the client gone, a send timed out), the generation is told to stop."""
    try:
        first = chunks.first()
        if first is not None:
            yield _event(first)
        while True:
            kind, value = await job.items.get()
            if kind == "text":
                yield _event(chunks.text(value))
            elif kind == "done":
                result: RunResult = value
                calls = chunks.calls(result)
                if calls is not None:
                    yield _event(calls)
                last = chunks.end(_finish(result))
                if body.include_usage_chunk():  # OpenAI's shape: a last chunk with no choices
                    yield _event(last)
                    yield _event({**chunks.bare(), "usage": _usage(result)})
                else:
                    yield _event({**last, "usage": _usage(result)})
                break
            elif kind == "error":
                err: BaseException = value
                message = str(err) if isinstance(err, UserError) else f"The server failed ({type(err).__name__})."
                yield _event(error_body(message, "server_error"))
                break
        yield {"data": "[DONE]"}
    finally:
        job.cancel.set()
