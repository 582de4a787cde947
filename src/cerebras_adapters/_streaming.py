"""Server-sent events: decoding, typed chunks, and assembling a stream into one completion.

This module owns the SSE framing (docs/api-facts.md#streaming, docs/api-facts.md#openrouter-streaming) and the
``Stream`` / ``AsyncStream`` iterators. Both iterators share every piece of logic (``SSEDecoder``, ``_StreamState``)
and differ only in how they read bytes. It must not retry: once a stream has yielded, a failure is raised
as an error carrying the partial output, never replayed. A stream is read once: every loop over it and
``get_final_completion()`` continue the same pass (as the openai SDK's streams do), and ``get_final_completion()``
reads whatever is left before assembling the answer.

With ``coalesce=True`` the events already received are merged into one chunk (``_coalesced``,
docs/adapters.md#stream-coalescing-core), and it costs nothing per event when off. The async stream then reads its
body in a reader task of its own (``_Reader``), so a consumer slower than the network takes everything received
since its last chunk at once; the sync stream merges the events of one network read. Neither waits for more bytes,
unless ``coalesce_ms`` asks for a time window.

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

import asyncio
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterable, Iterator
from itertools import chain, repeat
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
    from .governor import Reservation
    from .routes import Route
    from .types import Usage

__all__ = ["Accumulator", "AsyncStream", "SSEDecoder", "Stream", "accumulate"]


# From how many bytes on a read is decoded in bulk first (``SSEDecoder.feed``; below, line by line is as fast).
_BULK_SSE = 1024


class SSEDecoder:
    """Incremental SSE parser: ``feed`` bytes as they arrive, get back complete ``(event, data)`` pairs."""

    __slots__ = ("_buf", "_data", "_event")

    def __init__(self) -> None:
        self._buf = b""
        self._data: list[bytes] = []
        self._event: str | None = None

    def feed(self, chunk: bytes) -> list[tuple[str | None, bytes]]:
        if len(chunk) < _BULK_SSE:
            return self._lines(chunk)
        out: list[tuple[str | None, bytes]] = []
        if self._buf or self._data or self._event is not None or not chunk.startswith(b"data: "):
            # A read that starts inside an event (reads cut anywhere): that event line by line first.
            end = chunk.find(b"\n\n")
            if end < 0:
                return self._lines(chunk)
            out = self._lines(chunk[: end + 2])
            chunk = chunk[end + 2 :]
            if self._buf or self._data or self._event is not None or not chunk.startswith(b"data: "):
                return out + self._lines(chunk)
        # The bulk of a stream: events of one "data: " line each, LF line ends. Splitting on what lies between two
        # such events leaves their data; the count of LFs proves no piece before the last holds a line break (each
        # split took two), so each was one whole data line. Anything else goes line by line.
        pieces = chunk.split(b"\n\ndata: ")
        if len(pieces) > 2 and b"\r" not in chunk:
            last = pieces.pop()
            if chunk.count(b"\n") - last.count(b"\n") == 2 * len(pieces):
                pieces[0] = pieces[0][6:]
                out += zip(repeat(None), pieces)
                out += self._lines(b"data: " + last)
                return out
        return out + self._lines(chunk)

    def _lines(self, chunk: bytes) -> list[tuple[str | None, bytes]]:
        lines = (self._buf + chunk).split(b"\n") if self._buf else chunk.split(b"\n")
        self._buf = lines.pop()
        out: list[tuple[str | None, bytes]] = []
        data = self._data
        for line in lines:
            # The common lines inline (a "data: " line, the blank line that ends its event); the rest in _line.
            if line.startswith(b"data: ") and not line.endswith(b"\r"):
                data.append(line[6:])
            elif not line and self._event is None:
                if data:
                    out.append((None, data[0] if len(data) == 1 else b"\n".join(data)))
                    data.clear()
            else:
                self._line(line, out)
                data = self._data
        return out

    def flush(self) -> list[tuple[str | None, bytes]]:
        """At end of input. An event not yet ended by a blank line is dropped, as the SSE spec says ("If the file
        ends in the middle of an event, before the final empty line, the incomplete event is not dispatched"):
        a stream cut there was truncated, which the caller reports."""
        self._buf = b""
        self._data.clear()
        self._event = None
        return []

    def release(self) -> bytes | None:
        """Between two events, hand back the start of the next line held from the last bytes (``b""`` if none):
        feeding it again before the next bytes decodes as if it had never been taken. None inside an event."""
        if self._data or self._event is not None:
            return None
        held, self._buf = self._buf, b""
        return held

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
                self._data.clear()
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
        "reservation",
        "route",
        "scrub",
        "templates",
        "usage",
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
        scrub: Callable[[bytes], bytes] | None = None,
    ) -> None:
        self.route = route
        # Takes the API key out of an event an error is built from (a gateway may quote the key it refused).
        self.scrub = scrub
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
        # Text-event templates learned from this stream's events (``_Template``), for coalescing.
        self.templates: list[_Template] = []
        # The rate-limit governor's reservation (cerebras_adapters.governor), settled with the usage at the end.
        self.reservation: Reservation | None = None
        self.usage: Usage | None = None

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
            if self.scrub is not None:
                data = self.scrub(data)
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
            if self.scrub is not None and self.scrub(data) is not data:
                chunk = ChatCompletionChunk.model_validate_json(self.scrub(data))
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
        if chunk.usage is not None:
            self.usage = chunk.usage
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

    def timed_out(self, why: str = "attempt_timeout or deadline") -> APITimeoutError:
        return APITimeoutError(
            f"the stream's time ran out after {len(self.events)} chunks ({why})",
            request_id=self.request_id,
            rate_limits=self.rate_limits,
            partial=self.partial(),
        )

    def time_up(self) -> bool:
        alarm = self.alarm
        return (alarm is not None and alarm.fired) or monotonic() >= self.end

    def failed(self, exc: httpx.HTTPError) -> APIError:
        """The library's error for an httpx failure while reading the stream."""
        if self.time_up():
            return self.timed_out()
        if isinstance(exc, httpx.TimeoutException):
            return self.timed_out("no data came within the read timeout: timeout=httpx.Timeout(..., read=...)")
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
        reservation = self.reservation
        if reservation is not None:
            self.reservation = None
            reservation.reconcile(None, self.usage)  # None: cut before its usage, the estimate stays charged


async def _prefixed(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for piece in rest:
        yield piece


def _loads_or_none(data: bytes) -> Any:
    try:
        return pydantic_core.from_json(data)
    except ValueError:
        return None


# Bounds of one merged chunk, so that one stream far behind does not hold its consumer (and the event loop) for long.
_MERGE_EVENTS = 256
_MERGE_BYTES = 64 * 1024
# The async reader task stops reading once this much waits for the consumer (the socket's buffer holds the rest).
_READ_AHEAD = 256 * 1024


def _coalesced(
    state: _StreamState, events: list[tuple[str | None, bytes]]
) -> tuple[list[ChatCompletionChunk], bool, Exception | None]:
    """Coalescing: events already received, parsed and merged into chunks of at most ``_MERGE_EVENTS`` events
    (docs/adapters.md#stream-coalescing-core).

    Returns the merged chunks of the events before any end, whether ``[DONE]`` ended the stream, and the error an
    event raised. The caller yields the merged chunks first, then raises the error: the consumer gets everything
    that came before it, and the error (whose ``partial`` covers every event parsed, as without coalescing)
    arrives at the same point of the stream. Runs of text-only events are merged as JSON before one model is built
    for them (``_text_run``); any other event is parsed on its own and merged as a model (``_merge_chunk``).
    """
    chunks: list[ChatCompletionChunk] = []
    merged: ChatCompletionChunk | None = None
    count = 0
    at, end = 0, len(events)
    try:
        while at < end:
            if count == _MERGE_EVENTS:
                chunks.append(merged)  # type: ignore[arg-type]  # count > 0: merged is set
                merged, count = None, 0
            chunk, after = _text_run(state, events, at, _MERGE_EVENTS - count)
            if chunk is None:
                event, data = events[at]
                chunk = state.parse(event, data)
                if chunk is None:
                    return _with(chunks, merged), True, None
                after = at + 1
            merged = chunk if merged is None else _merge_chunk(merged, chunk)
            count += after - at
            at = after
    except Exception as exc:  # re-raised by the caller right after the chunks before it
        return _with(chunks, merged), False, exc
    return _with(chunks, merged), False, None


# A text-only event (``_text_choice``): these top-level keys, one choice with these keys, a delta with these.
# Any other key may be present only as null. Later events of a run must repeat the first's _SAME_KEYS.
_TEXT_TOP = frozenset({"id", "object", "created", "model", "system_fingerprint", "choices", "provider"})
_TEXT_CHOICE = frozenset({"index", "delta", "finish_reason"})
_TEXT_DELTA = ("role", "content", "reasoning")
_SAME_KEYS = ("id", "object", "created", "model", "system_fingerprint")
_ABSENT = object()


def _text_choice(payload: Any) -> dict[str, Any] | None:
    """The one choice of an event that carries nothing but text (role, content, reasoning) and a finish_reason, or
    None for any other event."""
    if type(payload) is not dict:
        return None
    for key, value in payload.items():
        if value is not None and key not in _TEXT_TOP:
            return None
    choices = payload.get("choices")
    if type(choices) is not list or len(choices) != 1 or type(choices[0]) is not dict:
        return None
    choice: dict[str, Any] = choices[0]
    for key, value in choice.items():
        if value is not None and key not in _TEXT_CHOICE:
            return None
    delta = choice.get("delta")
    if type(delta) is not dict:
        return None
    for key, value in delta.items():
        if value is not None and (key not in _TEXT_DELTA or type(value) is not str):
            return None
    reason = choice.get("finish_reason")
    return choice if reason is None or type(reason) is str else None


# A JSON string literal (used to find the text's literal in a token event's bytes).
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NAME = {"content": b'"content"', "reasoning": b'"reasoning"'}


class _Template:
    """The bytes of a token event around its text: the events of one stream differ only there (the same id,
    model, created, index, provider …), so ``prefix + <JSON string> + suffix`` is an event with that text and
    nothing else, and is taken without parsing the event (``_text_run``). Learned from an event that was parsed and
    checked in full (``learn``), and checked by rebuilding that event from the template."""

    __slots__ = ("head", "identity", "key", "prefix", "sep", "suffix", "tail")

    def __init__(self, key: str, prefix: bytes, suffix: bytes, identity: tuple[Any, ...]) -> None:
        self.key, self.prefix, self.suffix = key, prefix, suffix
        self.identity = identity  # the source event's _SAME_KEYS values and choice index (see _text_run)
        # The SSE bytes around the text of such an event, and between the texts of two in a row (``_template_run``).
        self.head, self.tail = b"data: " + prefix, suffix + b"\n\n"
        self.sep = self.tail + self.head

    @staticmethod
    def learn(
        data: bytes, payload: dict[str, Any], key: str, text: str, identity: tuple[Any, ...]
    ) -> _Template | None:
        name = data.find(_NAME[key])
        if name < 0 or data.find(_NAME[key], name + 1) >= 0:
            return None
        at = name + len(_NAME[key])
        while data[at : at + 1] in (b" ", b":", b"\t") and at < len(data):
            at += 1
        literal = _STRING.match(data, at)
        if literal is None or data[name + len(_NAME[key]) : at].count(b":") != 1:
            return None
        template = _Template(key, data[:at], data[literal.end() :], identity)
        try:  # the template must give back the very event it came from, and no other field may change with it
            if pydantic_core.from_json(literal.group(0)) != text or _loads_or_none(
                template.prefix + b'"\\u0000x"' + template.suffix
            ) != _with_text(payload, key, "\0x"):
                return None
        except ValueError:
            return None
        return template


def _template_run(state: _StreamState, raw: bytes) -> tuple[ChatCompletionChunk | None, int]:
    """The token events of one template at the start of ``raw`` (SSE bytes, starting at an event's start) as one
    chunk, and how many bytes of ``raw`` they take; ``(None, 0)`` when there are none.

    The bulk of a fast stream, found without splitting it into lines and events: every event of the run is
    ``head + <JSON string> + tail``, so splitting ``raw`` on ``tail + head`` (which holds a line break, so it cannot
    occur inside a JSON string) leaves the string literals, decoded all at once as one JSON array. A run is taken
    only if every piece is exactly one JSON string on one line: each event is then the template's own event with
    its text, as ``_text_run`` would take it one event at a time, and the chunk is that event with the texts joined.
    Anything else (another event, a comment, a line break of another kind, an event cut at the end of ``raw``) ends
    the run there and is left to ``SSEDecoder`` and ``_text_run``."""
    for template in state.templates:
        head = template.head
        if not raw.startswith(head):
            continue
        parts = raw.split(template.sep, _MERGE_EVENTS - 1)
        parts[0] = parts[0][len(head) :]
        last = parts[-1]
        end = last.find(template.tail)
        if end >= 0:  # the last piece ends with an event of the run (then comes anything else, or nothing)
            parts[-1] = last[:end]
            used = len(raw) - len(last) + end + len(template.tail)
        elif len(parts) > 1:  # the last piece is an event cut short by the end of this read: the next read's
            parts.pop()
            used = len(raw) - len(last) - len(template.sep) + len(template.tail)
        else:
            return None, 0
        literals = b",".join(parts)
        if b"\n" in literals or b"\r" in literals:
            return None, 0
        try:
            texts = pydantic_core.from_json(b"[" + literals + b"]")
        except ValueError:
            return None, 0
        if len(texts) != len(parts) or not all(type(text) is str for text in texts):
            return None, 0
        prefix, suffix = template.prefix, template.suffix
        try:
            chunk = ChatCompletionChunk.model_validate_json(prefix + pydantic_core.to_json("".join(texts)) + suffix)
        except pydantic.ValidationError:
            return None, 0
        chunk.attach_http(state.rate_limits, state.request_id, state.headers)
        state.events.extend([prefix + literal + suffix for literal in parts])
        return chunk, used
    return None, 0


def _feed(
    state: _StreamState, decoder: SSEDecoder, raw: bytes
) -> tuple[ChatCompletionChunk | None, list[tuple[str | None, bytes]]]:
    """A coalescing read: the run of token events it starts with, merged (``_template_run``), and the events after
    it, decoded."""
    if state.templates:
        held = decoder.release()
        if held is not None:
            if held:  # the start of an event the last read cut
                raw = held + raw
            chunk, used = _template_run(state, raw)
            if chunk is not None:
                return chunk, decoder.feed(raw[used:]) if used < len(raw) else []
    return None, decoder.feed(raw)


def _with_text(payload: dict[str, Any], key: str, text: str) -> dict[str, Any]:
    choice = payload["choices"][0]
    return {**payload, "choices": [{**choice, "delta": {**choice["delta"], key: text}}]}


def _text_run(
    state: _StreamState, events: list[tuple[str | None, bytes]], at: int, limit: int
) -> tuple[ChatCompletionChunk | None, int]:
    """The text-only events from ``at`` on (at most ``limit``) as one chunk, and the index after them; ``(None, at)``
    when fewer than two events qualify.

    Building one ``ChatCompletionChunk`` per event is most of what an event costs; a run of token events is merged as
    parsed JSON and validated once. The result is the chunk ``_merge_chunk`` would give, with the same checks: every
    event of the run is the first's but for its text and finish_reason (anything else sends it down the per-event
    path, which raises what it must at the event that has it), and the route's check of ``provider`` is made for
    each value sent. A run whose merged chunk does not validate is left to the per-event path too."""
    first: dict[str, Any] | None = None
    first_choice: dict[str, Any] = {}
    first_same: tuple[Any, ...] = ()
    texts: dict[str, list[str]] = {"role": [], "content": [], "reasoning": []}
    reason: str | None = None
    checked: str | None = None
    datas: list[bytes] = []
    templates = state.templates
    usable: list[_Template] = []  # the templates of this run's identity, once its first event is known
    position, end = at, min(len(events), at + limit)
    while position < end:
        event, data = events[position]
        if event is not None or data == b"[DONE]":
            break
        if usable and reason is None:
            # The bulk of a stream: an event that is a known template's with another text is taken as it is, its
            # text decoded alone (inline: this runs once per token).
            text = None
            for template in usable:
                prefix, suffix = template.prefix, template.suffix
                if data.startswith(prefix) and data.endswith(suffix):
                    middle = data[len(prefix) : len(data) - len(suffix)]
                    if len(middle) > 2 and middle[0] == 34 and middle[-1] == 34:  # 34: '"'
                        try:
                            text = pydantic_core.from_json(middle)
                        except ValueError:
                            text = None
                        if type(text) is str and text:
                            texts[template.key].append(text)
                            datas.append(data)
                            break
                        text = None
            if text is not None:
                position += 1
                continue
        try:
            payload = pydantic_core.from_json(data)
        except ValueError:
            break
        choice = _text_choice(payload)
        if choice is None:
            break
        same = (
            payload.get("id", _ABSENT),
            payload.get("object", _ABSENT),
            payload.get("created", _ABSENT),
            payload.get("model", _ABSENT),
            payload.get("system_fingerprint", _ABSENT),
        )
        if first is None:
            first, first_choice, first_same = payload, choice, same
            identity = (*same, choice.get("index", _ABSENT))
            usable = [template for template in templates if template.identity == identity]
        elif same != first_same or choice.get("index", _ABSENT) != first_choice.get("index", _ABSENT):
            break
        provider = payload.get("provider")
        if provider is not None and type(provider) is not str:
            break
        if provider is not None and provider != checked:
            try:
                state.route.check_served_by(provider, request_id=state.request_id)
            except RoutingError:
                break
            checked = provider
        for key, value in choice["delta"].items():
            if value:
                texts[key].append(value)
        if choice.get("finish_reason") is not None:
            reason = choice["finish_reason"]
        elif len(templates) < 2 and _learn(templates, data, payload, choice, (*same, choice.get("index", _ABSENT))):
            usable.append(templates[-1])
        datas.append(data)
        position += 1
    if first is None or len(datas) < 2:
        return None, at
    delta = first_choice["delta"]
    for key, values in texts.items():
        if values:
            delta[key] = values[-1] if key == "role" else "".join(values)
    if reason is not None:
        first_choice["finish_reason"] = reason
    if checked is not None:
        first["provider"] = checked
    try:
        chunk = ChatCompletionChunk.model_validate(first)
    except pydantic.ValidationError:
        return None, at
    chunk.attach_http(state.rate_limits, state.request_id, state.headers)
    state.events.extend(datas)
    if reason is not None:
        state.finished = True
    return chunk, position


def _learn(
    templates: list[_Template], data: bytes, payload: dict[str, Any], choice: dict[str, Any], identity: tuple[Any, ...]
) -> bool:
    """A template from a token event checked in full (one text, content or reasoning, and nothing else in its delta;
    no finish_reason), at most one per key per stream. Whether one was added."""
    texts = [(key, value) for key, value in choice["delta"].items() if value is not None]
    if len(texts) != 1 or not texts[0][1] or texts[0][0] not in _NAME or any(t.key == texts[0][0] for t in templates):
        return False
    template = _Template.learn(data, payload, texts[0][0], texts[0][1], identity)
    if template is not None:
        templates.append(template)
    return template is not None


def _with(chunks: list[ChatCompletionChunk], last: ChatCompletionChunk | None) -> list[ChatCompletionChunk]:
    if last is not None:
        chunks.append(last)
    return chunks


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _Reader:
    """The body of a coalesced async stream, read in a task of its own as fast as the network brings it.

    httpx hands over one HTTP chunk per read, and the server may write one event per HTTP chunk, so a consumer that
    reads for itself gets one event per read however far behind it is. Reading in another task lets the consumer
    take every piece received since its last chunk without waiting (``take``). Driving httpx's read coroutine by
    hand instead would leave anyio's read timeout scope open while the consumer runs (measured: a consumer slower
    than the read timeout then has its own awaits cancelled), so the reads stay whole, in this task.
    The task stops reading while ``_READ_AHEAD`` bytes wait for the consumer, and is cancelled when the stream ends
    or closes. Errors of the body (httpx's) are kept for the consumer to raise in its own task.
    """

    __slots__ = ("_room", "_task", "_wake", "arrived", "error", "finished", "pieces", "since", "size")

    def __init__(self, first: bytes, body: AsyncIterator[bytes]) -> None:
        self.pieces: list[bytes] = [first] if first else []
        self.size = len(first)
        self.since = self.arrived = monotonic()  # when the oldest piece waiting / the last piece taken arrived
        self.finished = False
        self.error: Exception | None = None
        self._wake: asyncio.Future[None] | None = None
        self._room: asyncio.Future[None] | None = None
        self._task = asyncio.get_running_loop().create_task(self._run(body))

    async def _run(self, body: AsyncIterator[bytes]) -> None:
        try:
            async for piece in body:
                if not self.pieces:
                    self.since = monotonic()
                self.pieces.append(piece)
                self.size += len(piece)
                self._signal()
                if self.size >= _READ_AHEAD:
                    self._room = asyncio.get_running_loop().create_future()
                    await self._room
        except Exception as exc:  # raised by the consumer, in its task
            self.error = exc
        finally:
            self.finished = True
            self._signal()

    def _signal(self) -> None:
        wake = self._wake
        if wake is not None:
            self._wake = None
            _settle(wake)

    def take(self) -> bytes | None:
        """Every piece received and not yet taken (up to ``_MERGE_BYTES``), or None if there is none."""
        pieces = self.pieces
        if not pieces:
            return None
        self.arrived = self.since
        if len(pieces) == 1:
            data = pieces[0]
            pieces.clear()
        elif self.size <= _MERGE_BYTES:
            data = b"".join(pieces)
            pieces.clear()
        else:
            taken = size = 0
            while taken < len(pieces) and size < _MERGE_BYTES:
                size += len(pieces[taken])
                taken += 1
            data = b"".join(pieces[:taken])
            del pieces[:taken]
            self.since = monotonic()
        self.size -= len(data)
        room = self._room
        if room is not None and self.size < _READ_AHEAD:
            self._room = None
            _settle(room)
        return data

    async def wait(self, timeout: float | None = None) -> None:
        """Until a piece arrives or the body ends (or ``timeout`` seconds pass)."""
        if self.pieces or self.finished:
            return
        loop = asyncio.get_running_loop()
        wake = self._wake = loop.create_future()
        if timeout is None:
            await wake
            return
        handle = loop.call_later(max(timeout, 0.0), _settle, wake)
        try:
            await wake
        finally:
            handle.cancel()

    async def close(self) -> None:
        task = self._task
        if not task.done():
            task.cancel()
            await asyncio.wait((task,))


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
    """Tool-call fragments merged per index by ``accumulate``'s rule (``_fold_tool_calls``); a merged call carries
    what its fragments sent, with its key as ``index``."""
    slots: dict[int, _ToolCallSlot] = {}
    if into:
        _fold_tool_calls(slots, into)
    _fold_tool_calls(slots, calls)
    return [
        ToolCall(
            index=key,
            id=slot.id,
            type=slot.type,
            function=FunctionCall(name=slot.name, arguments="".join(slot.arguments) if slot.arguments else None)
            if slot.function
            else None,
        )
        for key, slot in slots.items()
    ]


class _ToolCallSlot:
    __slots__ = ("arguments", "function", "id", "name", "type")

    def __init__(self) -> None:
        self.id: str | None = None
        self.type: str | None = None
        self.name: str | None = None
        self.arguments: list[str] = []
        self.function = False


def _fold_tool_calls(slots: dict[int, _ToolCallSlot], calls: list[ToolCall]) -> None:
    """The one rule for streamed tool-call fragments (``accumulate`` and coalescing): a fragment belongs to the call
    of its ``index`` (or, without one, of its position in its delta: one-piece parallel calls); ``id``, ``type`` and
    ``name`` are taken from the fragment that sends them, ``arguments`` are concatenated. Incremental calls (gpt-oss:
    id and name on the first fragment, then argument fragments, RT-13) and one-piece ones (llama/qwen/GLM, RT-15)
    give the same result."""
    for position, call in enumerate(calls):
        key = call.index if call.index is not None else position
        slot = slots.get(key)
        if slot is None:
            slot = slots[key] = _ToolCallSlot()
        if call.id:
            slot.id = call.id
        if call.type:
            slot.type = call.type
        function = call.function
        if function is not None:
            slot.function = True
            if function.name:
                slot.name = function.name
            if function.arguments is not None:
                slot.arguments.append(function.arguments)


def _merge_logprobs(into: Logprobs | None, other: Logprobs) -> Logprobs:
    if into is None:
        return other
    if other.content:
        _set(into, "content", (into.content or []) + other.content)
    if other.refusal:
        _set(into, "refusal", (into.refusal or []) + other.refusal)
    return into


def _iterate(
    state: _StreamState,
    response: httpx.Response,
    first: bytes,
    body: Any,
    coalesce: bool = False,
    window: float | None = None,
) -> Generator[ChatCompletionChunk, None, None]:
    """The one pass over a sync stream's body. A module function, not a method: the stream holds this generator,
    and a reference back to the stream would keep both alive until a full garbage collection.

    Coalescing merges the events of one read: a sync read blocks, and what httpx has already received is not
    visible without reading, so a merge never reads again unless ``window`` (seconds) asks it to."""
    decoder = SSEDecoder()
    end = state.end
    reads = chain((first,), body) if first else iter(body)
    try:
        try:
            for raw in reads:
                if monotonic() >= end:
                    raise state.timed_out()
                if coalesce:
                    if window is not None:  # the window's bytes, then one pass over them (as in _aiterate_coalesced)
                        pieces, size = [raw], len(raw)
                        until = monotonic() + window
                        for more in reads:  # may wait up to one read past the window
                            pieces.append(more)
                            size += len(more)
                            if size >= _MERGE_BYTES or monotonic() >= until:
                                break
                        if len(pieces) > 1:
                            raw = b"".join(pieces)
                    run, events = _feed(state, decoder, raw)
                    if run is not None:
                        yield run
                    if len(events) > 1:
                        chunks, done, failure = _coalesced(state, events)
                        yield from chunks
                        if failure is not None:
                            raise failure
                        if done:
                            state.complete = True
                            return
                        continue
                else:
                    events = decoder.feed(raw)
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
    state: _StreamState, response: httpx.Response, first: bytes, body: Any, merge: bool = False
) -> AsyncGenerator[ChatCompletionChunk, None]:
    """The async twin of ``_iterate``, read in the consumer's task: one chunk per event, or with ``merge`` (coalescing
    over a body read in bulk, ``_body.aiter_body``) the events of each read merged (at most ``_MERGE_EVENTS`` per
    chunk). A bulk read takes everything the connection received since the last one, so a consumer that falls behind
    gets larger reads and pays per read and per chunk, not per event, with no reader task."""
    decoder = SSEDecoder()
    end = state.end
    try:
        try:
            async for raw in _prefixed(first, body) if first else body:
                if monotonic() >= end:
                    raise state.timed_out()
                if merge:
                    run, events = _feed(state, decoder, raw)
                    if run is not None:
                        yield run
                    merged, done, failure = _coalesced(state, events)
                    for one in merged:
                        yield one
                    if failure is not None:
                        raise failure
                    if done:
                        state.complete = True
                        return
                    continue
                for event, data in decoder.feed(raw):
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


async def _aiterate_coalesced(
    state: _StreamState, response: httpx.Response, first: bytes, body: Any, window: float | None = None
) -> AsyncGenerator[ChatCompletionChunk, None]:
    """The async pass with coalescing: the body is read by a ``_Reader`` task, and each chunk merges every event
    received since the last one (at most ``_MERGE_EVENTS``). It waits only when nothing is there, or, with
    ``window`` (seconds), until that long after the first bytes of the merge arrived (or ``_MERGE_BYTES`` came)."""
    decoder = SSEDecoder()
    end = state.end
    reader = _Reader(first, body)
    try:
        try:
            while True:
                raw = reader.take()
                if raw is None:
                    if reader.finished:
                        if reader.error is not None:
                            raise reader.error
                        break
                    await reader.wait()
                    continue
                if monotonic() >= end:
                    raise state.timed_out()
                if window is not None:
                    # The window's bytes first, then one pass over them: the token events among them are taken as
                    # runs (``_feed``), as a read is without a window, instead of one by one.
                    pieces, size = [raw], len(raw)
                    until = reader.arrived + window
                    while size < _MERGE_BYTES:
                        more = reader.take()
                        if more is not None:
                            pieces.append(more)
                            size += len(more)
                            continue
                        left = until - monotonic()
                        if left <= 0 or reader.finished:
                            break
                        await reader.wait(left)
                    if len(pieces) > 1:
                        raw = b"".join(pieces)
                run, events = _feed(state, decoder, raw)
                if run is not None:
                    yield run
                chunks, done, failure = _coalesced(state, events)
                for chunk in chunks:
                    yield chunk
                if failure is not None:
                    raise failure
                if done:
                    state.complete = True
                    return
        except httpx.HTTPError as exc:
            raise state.failed(exc) from None
        finally:
            state.close()
            await reader.close()
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
        coalesce_ms: float | None = None,
    ) -> None:
        super().__init__(response, state)
        # The client reads the first bytes before handing the stream over (so a stall before them is retried);
        # they are parsed first, then the rest of the same body iterator.
        window = coalesce_ms / 1000 if coalesce_ms is not None else None
        self._iterator = _iterate(
            state, response, first, body if body is not None else response.iter_bytes(), coalesce, window
        )

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
        coalesce_ms: float | None = None,
    ) -> None:
        super().__init__(response, state)
        if body is None:
            body = response.aiter_bytes()
        if coalesce:
            window = coalesce_ms / 1000 if coalesce_ms is not None else None
            from ._body import is_bulk

            if window is None and is_bulk(body):
                self._iterator = _aiterate(state, response, first, body, merge=True)
            else:
                self._iterator = _aiterate_coalesced(state, response, first, body, window)
        else:
            self._iterator = _aiterate(state, response, first, body)

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
        self.tools: dict[int, _ToolCallSlot] = {}
        self.finish_reason: str | None = None
        self.logprobs: list[Any] | None = None
        self.reasoning_logprobs: list[Any] | None = None


def accumulate(chunks: Iterable[ChatCompletionChunk]) -> ChatCompletion:
    """Assemble streamed chunks into the ``ChatCompletion`` a non-streamed call would have returned.

    Tool calls are merged by ``index`` (``_fold_tool_calls``, the rule coalescing shares). Annotations (web
    search citations, OpenRouter) are appended in the order the deltas carried them. ``usage``,
    ``time_info``, the service tiers and ``provider`` are taken from whichever chunk carried them, as the
    adapters' ``StreamTail`` (``_output``) reads them. ``Accumulator`` does the same one chunk at a time.
    """
    accumulator = Accumulator()
    add = accumulator.add
    for chunk in chunks:
        add(chunk)
    return accumulator.completion()


class Accumulator:
    """``accumulate`` one chunk at a time: ``add`` each chunk as it comes, ``completion()`` at the end. It keeps
    the texts and the fields, not the chunks (whose objects the garbage collector would walk until the stream
    ends: ~9 per chunk), so an adapter that needs the assembled answer after a long stream holds no chunk."""

    __slots__ = ("_builders", "_tail")

    def __init__(self) -> None:
        self._tail = StreamTail()
        self._builders: dict[int, _ChoiceBuilder] = {}

    def add(self, chunk: ChatCompletionChunk) -> None:
        self._tail.observe(chunk)
        builders = self._builders
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
                _fold_tool_calls(b.tools, delta.tool_calls)
            if choice.finish_reason is not None:
                b.finish_reason = choice.finish_reason
            if choice.logprobs is not None and choice.logprobs.content:
                if b.logprobs is None:
                    b.logprobs = []
                b.logprobs.extend(choice.logprobs.content)
            if choice.reasoning_logprobs is not None and choice.reasoning_logprobs.content:
                if b.reasoning_logprobs is None:
                    b.reasoning_logprobs = []
                b.reasoning_logprobs.extend(choice.reasoning_logprobs.content)

    def completion(self) -> ChatCompletion:
        """The completion assembled from the chunks added so far."""
        tail, builders = self._tail, self._builders
        choices = []
        for index in sorted(builders):
            b = builders[index]
            tool_calls = [
                ToolCall(
                    index=key,
                    id=slot.id,
                    type=slot.type or "function",
                    function=FunctionCall(name=slot.name, arguments="".join(slot.arguments)),
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
                    logprobs=Logprobs(content=list(b.logprobs)) if b.logprobs is not None else None,
                    reasoning_logprobs=(
                        Logprobs(content=list(b.reasoning_logprobs)) if b.reasoning_logprobs is not None else None
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
