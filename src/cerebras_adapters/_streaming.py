"""Server-sent events: decoding, typed chunks, and assembling a stream into one completion.

This module owns the SSE framing (docs/api-facts.md#streaming, docs/api-facts.md#openrouter-streaming) and the
``Stream`` / ``AsyncStream`` iterators. Both iterators share every piece of logic (``SSEDecoder``, ``_StreamState``)
and differ only in how they read bytes. It must not retry: once a stream has yielded, a failure is raised
as an error carrying the partial output, never replayed. A stream is read once: every loop over it and
``get_final_completion()`` continue the same pass (as the openai SDK's streams do), and ``get_final_completion()``
reads whatever is left before assembling the answer. With ``coalesce=True`` the complete events of one network read
are merged into one chunk (``_coalesced``): it never waits for more bytes, and costs nothing per event when off.

Facts relied on:
* Cerebras streams end at connection close with no ``data: [DONE]`` (RT-12, RT-13, RT-15); OpenRouter
  sends ``[DONE]``. Both end the stream here.
* Events do not align with network reads (RT-13: 81 events in 17 reads), so bytes are buffered and split
  on line ends.
* OpenRouter sends ``: OPENROUTER PROCESSING`` comment lines; they are skipped.
* A mid-stream error is a data payload with a top-level ``error`` (Cerebras SDK contract, OpenRouter with
  ``finish_reason: "error"``) or an ``event: error`` line.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterable, Iterator
from itertools import chain
from time import monotonic
from typing import TYPE_CHECKING, Any

import httpx
import pydantic
import pydantic_core

from ._output import StreamTail
from .errors import (
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    RoutingError,
    StreamInterruptedError,
    status_error,
)
from .types import (
    Annotation,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    Choice,
    ChunkChoice,
    FunctionCall,
    Logprobs,
    RateLimits,
    ToolCall,
)

if TYPE_CHECKING:
    from ._deadline import Alarm
    from .routes import Route

__all__ = ["AsyncStream", "SSEDecoder", "Stream", "accumulate"]


class SSEDecoder:
    """Incremental SSE parser: ``feed`` bytes as they arrive, get back complete ``(event, data)`` pairs."""

    __slots__ = ("_buf", "_data", "_event")

    def __init__(self) -> None:
        self._buf = b""
        self._data: list[bytes] = []
        self._event: str | None = None

    def feed(self, chunk: bytes) -> list[tuple[str | None, bytes]]:
        lines = (self._buf + chunk).split(b"\n") if self._buf else chunk.split(b"\n")
        self._buf = lines.pop()
        out: list[tuple[str | None, bytes]] = []
        for line in lines:
            self._line(line, out)
        return out

    def flush(self) -> list[tuple[str | None, bytes]]:
        """At end of input. An event not yet ended by a blank line is dropped, as the SSE spec says ("If the file
        ends in the middle of an event, before the final empty line, the incomplete event is not dispatched"):
        a stream cut there was truncated, which the caller reports."""
        self._buf = b""
        self._data = []
        self._event = None
        return []

    @property
    def pending(self) -> bool:
        """Whether input ended inside an event (bytes or data lines not yet dispatched)."""
        return bool(self._buf or self._data)

    def _line(self, line: bytes, out: list[tuple[str | None, bytes]]) -> None:
        if line[-1:] == b"\r":
            line = line[:-1]
        if not line:
            if self._data:
                out.append((self._event, b"\n".join(self._data)))
                self._data = []
            self._event = None
            return
        if line[:5] == b"data:":
            value = line[5:]
            self._data.append(value[1:] if value[:1] == b" " else value)
        elif line[:1] == b":":
            return  # comment / keep-alive
        elif line[:6] == b"event:":
            self._event = line[6:].strip().decode("utf-8", "replace")
        # id:, retry: and unknown fields carry nothing for chat completions


class _StreamState:
    """Everything a stream iterator does per event, shared by the sync and async iterators.

    It keeps the raw bytes of each event, not the parsed chunks: bytes are not tracked by the garbage
    collector, so a long stream does not grow the heap that every full collection walks (a 4000-chunk stream
    kept ~19 tracked objects per chunk alive before, and full collections made long streams grow faster than
    linearly). The chunks are parsed again only when asked for: ``partial()`` on an error and
    ``Stream.chunks`` / ``get_final_completion()``.
    """

    __slots__ = (
        "_parsed",
        "alarm",
        "complete",
        "end",
        "events",
        "failure",
        "finished",
        "headers",
        "rate_limits",
        "request_id",
        "route",
    )

    def __init__(
        self,
        route: Route,
        headers: httpx.Headers,
        rate_limits: RateLimits | None,
        request_id: str | None,
        *,
        alarm: Alarm | None = None,
        end: float = float("inf"),
    ) -> None:
        self.route = route
        self.headers = headers
        self.rate_limits = rate_limits
        self.request_id = request_id
        self.alarm = alarm
        self.end = end
        self.events: list[bytes] = []
        self.finished = False
        # How the one pass over the body ended: read to its end (complete), or with the error it raised.
        self.complete = False
        self.failure: APIError | None = None
        self._parsed: list[ChatCompletionChunk] = []

    def parse(self, event: str | None, data: bytes) -> ChatCompletionChunk | None:
        """One event → one chunk; None means the stream is over (``[DONE]``)."""
        if data == b"[DONE]":
            if not self.finished:
                # [DONE] after no finish_reason: the answer was cut short upstream (OpenRouter sends [DONE]
                # after a provider failure too); accepting it would truncate silently.
                raise self.interrupted(None, reason="[DONE] arrived before any chunk carried a finish_reason")
            return None
        try:
            chunk = ChatCompletionChunk.model_validate_json(data)
        except pydantic.ValidationError as exc:
            payload = _loads_or_none(data)
            if isinstance(payload, dict) and "error" in payload:
                raise self.error(payload) from None
            raise APIResponseValidationError(
                f"malformed stream event: {data[:200]!r}",
                body=data.decode("utf-8", "replace"),
                request_id=self.request_id,
                rate_limits=self.rate_limits,
                partial=self.partial(),
            ) from exc
        if chunk.error is not None or event == "error":
            raise self.error(chunk.to_dict())
        chunk.attach_http(self.rate_limits, self.request_id, self.headers)
        if chunk.provider is not None:
            try:
                self.route.check_served_by(chunk.provider, request_id=self.request_id)
            except RoutingError as exc:
                exc.partial = self.partial()
                exc.rate_limits = self.rate_limits
                raise
        self.events.append(data)
        choices = chunk.choices
        if choices and choices[0].finish_reason is not None:
            self.finished = True
        return chunk

    def chunks(self) -> list[ChatCompletionChunk]:
        """The chunks received so far, parsed again from their bytes (only the new ones since the last call)."""
        parsed = self._parsed
        for data in self.events[len(parsed) :]:
            chunk = ChatCompletionChunk.model_validate_json(data)
            chunk.attach_http(self.rate_limits, self.request_id, self.headers)
            parsed.append(chunk)
        return parsed

    def partial(self) -> ChatCompletion | None:
        return accumulate(self.chunks()) if self.events else None

    def error(self, payload: dict[str, Any]) -> Exception:
        return status_error(
            200, payload, request_id=self.request_id, rate_limits=self.rate_limits, partial=self.partial()
        )

    def check_finished(self) -> None:
        """At a clean end of input: a stream that never sent a ``finish_reason`` was cut short (Cerebras ends
        every stream with a finish chunk, RT-12/RT-13/RT-15), even if the connection closed cleanly."""
        if not self.finished:
            raise self.interrupted(None)

    def interrupted(self, exc: Exception | None, reason: str | None = None) -> StreamInterruptedError:
        if reason is None:
            reason = (
                f"{type(exc).__name__}: {exc}" if exc is not None else "the connection closed before a finish_reason"
            )
        return StreamInterruptedError(
            f"stream interrupted after {len(self.events)} chunks: {reason}",
            request_id=self.request_id,
            rate_limits=self.rate_limits,
            partial=self.partial(),
        )

    def timed_out(self) -> APITimeoutError:
        return APITimeoutError(
            f"the stream's time ran out after {len(self.events)} chunks (attempt_timeout or deadline)",
            request_id=self.request_id,
            rate_limits=self.rate_limits,
            partial=self.partial(),
        )

    def time_up(self) -> bool:
        alarm = self.alarm
        return (alarm is not None and alarm.fired) or monotonic() >= self.end

    def failed(self, exc: httpx.HTTPError) -> APIError:
        """The library's error for an httpx failure while reading the stream."""
        if isinstance(exc, httpx.TimeoutException) or self.time_up():
            return self.timed_out()
        if isinstance(exc, httpx.TransportError):
            return self.interrupted(exc)
        return APIResponseValidationError(  # e.g. a body that claims gzip and is not
            f"the stream could not be decoded after {len(self.events)} chunks: {type(exc).__name__}: {exc}",
            request_id=self.request_id,
            rate_limits=self.rate_limits,
            partial=self.partial(),
        )

    def ended(self, pending: bool) -> None:
        """At a clean end of input: time up, cut inside an event, or no finish_reason all mean a cut stream."""
        if self.time_up():
            raise self.timed_out()
        if pending:
            raise self.interrupted(None, reason="the connection closed in the middle of an event")
        self.check_finished()

    def close(self) -> None:
        if self.alarm is not None:
            self.alarm.disarm()


async def _prefixed(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for piece in rest:
        yield piece


def _loads_or_none(data: bytes) -> Any:
    try:
        return pydantic_core.from_json(data)
    except ValueError:
        return None


def _coalesced(
    state: _StreamState, events: list[tuple[str | None, bytes]]
) -> tuple[ChatCompletionChunk | None, bool, Exception | None]:
    """Coalescing: the events of one read parsed and merged into one chunk (docs/adapters.md#stream-coalescing-core).

    Returns the merged chunk of the events before any end, whether ``[DONE]`` ended the stream, and the error an
    event raised. The caller yields the merged chunk first, then raises the error: the consumer gets everything
    that came before it, and the error (whose ``partial`` covers every event parsed, as without coalescing)
    arrives at the same point of the stream.
    """
    merged: ChatCompletionChunk | None = None
    try:
        for event, data in events:
            chunk = state.parse(event, data)
            if chunk is None:
                return merged, True, None
            merged = chunk if merged is None else _merge_chunk(merged, chunk)
    except Exception as exc:  # re-raised by the caller right after the chunks before it
        return merged, False, exc
    return merged, False, None


_TAIL_FIELDS = ("usage", "time_info", "service_tier", "service_tier_used", "provider")


def _set(model: pydantic.BaseModel, name: str, value: Any) -> None:
    """Set a field of a parsed wire object without pydantic's ``__setattr__`` (~1 µs a call, paid per merged event
    otherwise), keeping ``model_fields_set`` right."""
    model.__dict__[name] = value
    model.__pydantic_fields_set__.add(name)


def _merge_chunk(into: ChatCompletionChunk, chunk: ChatCompletionChunk) -> ChatCompletionChunk:
    """Fold ``chunk`` into ``into`` (a chunk only this stream holds): ``id``/``model``/``created`` stay the first's,
    the tail fields and extras take the last value sent, choices merge per ``index``. ``accumulate`` gives the
    same completion for the merged chunk as for the two."""
    values = chunk.__dict__
    for name in _TAIL_FIELDS:
        value = values[name]
        if value is not None:
            _set(into, name, value)
    if chunk.__pydantic_extra__:
        _merge_extras(into, chunk)
    targets = into.choices
    for choice in chunk.choices:
        for target in targets:
            if target.index == choice.index:
                _merge_choice(target, choice)
                break
        else:
            targets.append(choice)  # the later chunk is discarded: its objects can be taken over
    return into


def _merge_extras(into: pydantic.BaseModel, other: pydantic.BaseModel) -> None:
    extra, target = other.__pydantic_extra__, into.__pydantic_extra__
    if extra and target is not None:
        target.update((key, value) for key, value in extra.items() if value is not None)


def _merge_choice(into: ChunkChoice, choice: ChunkChoice) -> None:
    if choice.finish_reason is not None:
        _set(into, "finish_reason", choice.finish_reason)
    if choice.logprobs is not None:
        _set(into, "logprobs", _merge_logprobs(into.logprobs, choice.logprobs))
    if choice.reasoning_logprobs is not None:
        _set(into, "reasoning_logprobs", _merge_logprobs(into.reasoning_logprobs, choice.reasoning_logprobs))
    if choice.__pydantic_extra__:
        _merge_extras(into, choice)
    d, e = into.delta, choice.delta
    if e.role:
        _set(d, "role", e.role)
    if e.content:
        _set(d, "content", d.content + e.content if d.content else e.content)
    if e.reasoning:
        _set(d, "reasoning", d.reasoning + e.reasoning if d.reasoning else e.reasoning)
    if e.reasoning_details:
        _set(d, "reasoning_details", (d.reasoning_details or []) + e.reasoning_details)
    if e.annotations:
        _set(d, "annotations", (d.annotations or []) + e.annotations)
    if e.tool_calls:
        _set(d, "tool_calls", _merge_tool_calls(d.tool_calls, e.tool_calls))
    if e.__pydantic_extra__:
        _merge_extras(d, e)


def _merge_tool_calls(into: list[ToolCall] | None, calls: list[ToolCall]) -> list[ToolCall]:
    """Tool-call fragments merged per index as ``accumulate`` does (a call without an index is keyed by its
    position in its delta, so that key is written into ``index``): ``id``, ``type`` and ``name`` come with the
    first fragment, ``arguments`` are concatenated."""
    merged: list[ToolCall] = []
    for group in (into or [], calls):
        for position, call in enumerate(group):
            if call.index is None:
                _set(call, "index", position)
            slot = next((c for c in merged if c.index == call.index), None)
            if slot is None:
                merged.append(call)
                continue
            if call.id:
                _set(slot, "id", call.id)
            if call.type:
                _set(slot, "type", call.type)
            function = call.function
            if function is not None:
                if slot.function is None:
                    _set(slot, "function", function)
                    continue
                if function.name:
                    _set(slot.function, "name", function.name)
                if function.arguments:
                    _set(slot.function, "arguments", (slot.function.arguments or "") + function.arguments)
    return merged


def _merge_logprobs(into: Logprobs | None, other: Logprobs) -> Logprobs:
    if into is None:
        return other
    if other.content:
        _set(into, "content", (into.content or []) + other.content)
    if other.refusal:
        _set(into, "refusal", (into.refusal or []) + other.refusal)
    return into


def _iterate(
    state: _StreamState, response: httpx.Response, first: bytes, body: Any, coalesce: bool = False
) -> Generator[ChatCompletionChunk, None, None]:
    """The one pass over a sync stream's body. A module function, not a method: the stream holds this generator,
    and a reference back to the stream would keep both alive until a full garbage collection."""
    decoder = SSEDecoder()
    end = state.end
    try:
        try:
            for raw in chain((first,), body) if first else body:
                if monotonic() >= end:
                    raise state.timed_out()
                events = decoder.feed(raw)
                if coalesce and len(events) > 1:
                    merged, done, failure = _coalesced(state, events)
                    if merged is not None:
                        yield merged
                    if failure is not None:
                        raise failure
                    if done:
                        state.complete = True
                        return
                    continue
                for event, data in events:
                    chunk = state.parse(event, data)
                    if chunk is None:
                        state.complete = True
                        return
                    yield chunk
        except httpx.HTTPError as exc:
            raise state.failed(exc) from None
        finally:
            state.close()
            response.close()
        state.ended(decoder.pending)
        state.complete = True
    except APIError as exc:
        state.failure = exc  # raised again by a later iteration or get_final_completion()
        raise


async def _aiterate(
    state: _StreamState, response: httpx.Response, first: bytes, body: Any, coalesce: bool = False
) -> AsyncGenerator[ChatCompletionChunk, None]:
    """The async twin of ``_iterate``."""
    decoder = SSEDecoder()
    end = state.end
    try:
        try:
            async for raw in _prefixed(first, body) if first else body:
                if monotonic() >= end:
                    raise state.timed_out()
                events = decoder.feed(raw)
                if coalesce and len(events) > 1:
                    merged, done, failure = _coalesced(state, events)
                    if merged is not None:
                        yield merged
                    if failure is not None:
                        raise failure
                    if done:
                        state.complete = True
                        return
                    continue
                for event, data in events:
                    chunk = state.parse(event, data)
                    if chunk is None:
                        state.complete = True
                        return
                    yield chunk
        except httpx.HTTPError as exc:
            raise state.failed(exc) from None
        finally:
            state.close()
            await response.aclose()
        state.ended(decoder.pending)
        state.complete = True
    except APIError as exc:
        state.failure = exc  # raised again by a later iteration or get_final_completion()
        raise


class _StreamBase:
    """What the sync and async streams share: the response, the state, and what closing before the end means.

    A stream is read once, by one iterator that every ``for`` / ``async for`` over it continues (as in the openai
    SDK): breaking out of a loop leaves the rest unread and the connection open until ``close()``.
    ``get_final_completion()`` reads whatever is left, so it returns the whole answer wherever it is called.
    An error that ended the stream is raised again by a later iteration or ``get_final_completion()``, with the
    same ``partial``; closing a stream before its end counts as such an error (``StreamInterruptedError``),
    so a cut answer is never returned as if it were whole.
    """

    def __init__(self, response: httpx.Response, state: _StreamState) -> None:
        self.response = response
        self._state = state

    @property
    def rate_limits(self) -> RateLimits | None:
        return self._state.rate_limits

    @property
    def request_id(self) -> str | None:
        return self._state.request_id

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    @property
    def chunks(self) -> list[ChatCompletionChunk]:
        """The chunks received so far (parsed again from the bytes the stream keeps)."""
        return self._state.chunks()

    def _closing(self) -> None:
        state = self._state
        if not state.complete and state.failure is None:
            state.failure = state.interrupted(
                None,
                reason="the stream was closed (close() or the end of its with block) before its end; read it, "
                "or call get_final_completion(), before closing it",
            )
        state.close()

    def _raise_if_ended_badly(self) -> None:
        failure = self._state.failure
        if failure is not None:
            raise failure


class Stream(_StreamBase):
    """A streamed completion: iterate it for ``ChatCompletionChunk`` objects, or call ``get_final_completion()``
    for the whole answer. Close it (or use it as a context manager) if you stop early; it closes itself at the
    end of the stream."""

    def __init__(
        self,
        response: httpx.Response,
        state: _StreamState,
        first: bytes = b"",
        body: Any = None,
        *,
        coalesce: bool = False,
    ) -> None:
        super().__init__(response, state)
        # The client reads the first bytes before handing the stream over (so a stall before them is retried);
        # they are parsed first, then the rest of the same body iterator.
        self._iterator = _iterate(state, response, first, body if body is not None else response.iter_bytes(), coalesce)

    def __iter__(self) -> Iterator[ChatCompletionChunk]:
        self._raise_if_ended_badly()
        return self._iterator

    def __next__(self) -> ChatCompletionChunk:
        self._raise_if_ended_badly()
        return next(self._iterator)

    def get_final_completion(self) -> ChatCompletion:
        """Read the rest of the stream, then return the whole answer assembled into the ``ChatCompletion`` a
        non-streamed call returns (every chunk, including those already iterated). Raises the error the stream
        ended with, if any (``.partial`` holds what arrived)."""
        for _ in self:
            pass
        return accumulate(self._state.chunks())

    def until_done(self) -> ChatCompletion:
        """Same as ``get_final_completion()``."""
        return self.get_final_completion()

    def close(self) -> None:
        self._closing()
        self._iterator.close()
        self.response.close()

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncStream(_StreamBase):
    """The async twin of ``Stream`` (``await stream.get_final_completion()``, ``await stream.close()``)."""

    def __init__(
        self,
        response: httpx.Response,
        state: _StreamState,
        first: bytes = b"",
        body: Any = None,
        *,
        coalesce: bool = False,
    ) -> None:
        super().__init__(response, state)
        self._iterator = _aiterate(
            state, response, first, body if body is not None else response.aiter_bytes(), coalesce
        )

    def __aiter__(self) -> AsyncIterator[ChatCompletionChunk]:
        self._raise_if_ended_badly()
        return self._iterator

    async def __anext__(self) -> ChatCompletionChunk:
        self._raise_if_ended_badly()
        return await self._iterator.__anext__()

    async def get_final_completion(self) -> ChatCompletion:
        """Read the rest of the stream, then return the whole answer (see ``Stream.get_final_completion``)."""
        async for _ in self:
            pass
        return accumulate(self._state.chunks())

    async def until_done(self) -> ChatCompletion:
        """Same as ``get_final_completion()``."""
        return await self.get_final_completion()

    async def close(self) -> None:
        self._closing()
        try:
            await self._iterator.aclose()
        except RuntimeError:  # being read by another task right now: closing the response below ends that read
            pass
        await self.response.aclose()

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class _ChoiceBuilder:
    __slots__ = (
        "annotations",
        "content",
        "finish_reason",
        "logprobs",
        "reasoning",
        "reasoning_details",
        "reasoning_logprobs",
        "role",
        "tools",
    )

    def __init__(self) -> None:
        self.role = "assistant"
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.reasoning_details: list[dict[str, Any]] = []
        self.annotations: list[Annotation] = []
        self.tools: dict[int, dict[str, Any]] = {}
        self.finish_reason: str | None = None
        self.logprobs: list[Any] | None = None
        self.reasoning_logprobs: list[Any] | None = None


def accumulate(chunks: Iterable[ChatCompletionChunk]) -> ChatCompletion:
    """Assemble streamed chunks into the ``ChatCompletion`` a non-streamed call would have returned.

    Tool calls are merged by ``index``: incremental ones (gpt-oss: id and name on the first fragment, then
    argument fragments, RT-13) and one-piece ones (llama/qwen/GLM, RT-15) give the same result. Annotations (web
    search citations, OpenRouter) are appended in the order the deltas carried them. ``usage``,
    ``time_info``, the service tiers and ``provider`` are taken from whichever chunk carried them, as the
    adapters' ``StreamTail`` (``_output``) reads them.
    """
    tail = StreamTail()
    builders: dict[int, _ChoiceBuilder] = {}
    for chunk in chunks:
        tail.observe(chunk)
        for choice in chunk.choices:
            b = builders.get(choice.index)
            if b is None:
                b = builders[choice.index] = _ChoiceBuilder()
            delta = choice.delta
            if delta.role:
                b.role = delta.role
            if delta.content:
                b.content.append(delta.content)
            if delta.reasoning:
                b.reasoning.append(delta.reasoning)
            if delta.reasoning_details:
                b.reasoning_details.extend(delta.reasoning_details)
            if delta.annotations:
                b.annotations.extend(delta.annotations)
            if delta.tool_calls:
                for position, call in enumerate(delta.tool_calls):
                    key = call.index if call.index is not None else position
                    slot = b.tools.get(key)
                    if slot is None:
                        slot = b.tools[key] = {"id": None, "type": None, "name": None, "arguments": []}
                    if call.id:
                        slot["id"] = call.id
                    if call.type:
                        slot["type"] = call.type
                    if call.function is not None:
                        if call.function.name:
                            slot["name"] = call.function.name
                        if call.function.arguments:
                            slot["arguments"].append(call.function.arguments)
            if choice.finish_reason is not None:
                b.finish_reason = choice.finish_reason
            if choice.logprobs is not None and choice.logprobs.content:
                b.logprobs = (b.logprobs or []) + list(choice.logprobs.content)
            if choice.reasoning_logprobs is not None and choice.reasoning_logprobs.content:
                b.reasoning_logprobs = (b.reasoning_logprobs or []) + list(choice.reasoning_logprobs.content)
    choices = []
    for index in sorted(builders):
        b = builders[index]
        tool_calls = [
            ToolCall(
                index=key,
                id=slot["id"],
                type=slot["type"] or "function",
                function=FunctionCall(name=slot["name"], arguments="".join(slot["arguments"])),
            )
            for key, slot in sorted(b.tools.items())
        ]
        message = ChatCompletionMessage(
            role=b.role,
            content="".join(b.content) if b.content else None,
            reasoning="".join(b.reasoning) if b.reasoning else None,
            tool_calls=tool_calls or None,
            reasoning_details=b.reasoning_details or None,
            annotations=b.annotations or None,
        )
        choices.append(
            Choice(
                index=index,
                message=message,
                finish_reason=b.finish_reason,
                logprobs=Logprobs(content=b.logprobs) if b.logprobs is not None else None,
                reasoning_logprobs=(
                    Logprobs(content=b.reasoning_logprobs) if b.reasoning_logprobs is not None else None
                ),
            )
        )
    head = tail.first
    result = ChatCompletion(
        id=head.id if head else "",
        created=head.created if head else 0,
        model=head.model if head else "",
        system_fingerprint=head.system_fingerprint if head else None,
        service_tier=tail.service_tier,
        service_tier_used=tail.service_tier_used,
        provider=tail.provider,
        usage=tail.usage,
        time_info=tail.time_info,
        choices=choices,
    )
    if head is not None:
        result.attach_http(head.rate_limits, head.request_id, head.headers)
    return result
