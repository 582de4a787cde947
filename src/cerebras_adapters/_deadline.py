"""Time limits of a call: a total per attempt (``attempt_timeout``) and one per call (``deadline``).

httpx's timeouts bound each connect, write and read, so a server that trickles one byte a second never times
out, and a call that retries can take ``(max_retries + 1) × timeout`` plus backoff. This module owns the two
totals on top of them and how they are enforced:

* before the response headers: every httpx timeout of the attempt is capped at the time the attempt has left;
* after them (a body or a stream that trickles or stalls): a watchdog shuts the connection's socket down when
  the attempt's time is up, so the blocked read returns at once; the reader sees ``fired`` and raises
  ``APITimeoutError``. A transport without a socket (``httpx.MockTransport``) is still bounded by the clock
  check the readers make after every read.

The sync watchdog is one daemon thread for the whole process (a heap of alarms, not a thread per call); the
async one is a ``loop.call_at`` timer. Neither sends, retries or parses anything.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import socket
import threading
from time import monotonic
from typing import Any

import httpx

__all__ = ["Alarm", "CallClock", "arm_async", "arm_sync"]

_TIMEOUT_KEYS = ("connect", "read", "write", "pool")


class CallClock:
    """The clock of one call: when the call must end, and when its current attempt must."""

    __slots__ = ("attempt_timeout", "call_end", "deadline")

    def __init__(self, attempt_timeout: float | None, deadline: float | None) -> None:
        self.attempt_timeout = attempt_timeout
        self.deadline = deadline
        self.call_end = monotonic() + deadline if deadline is not None else math.inf

    def attempt_end(self) -> float:
        if self.attempt_timeout is None:
            return self.call_end
        return min(self.call_end, monotonic() + self.attempt_timeout)

    def leaves_room_for(self, delay: float) -> bool:
        """Whether sleeping ``delay`` seconds before the next attempt still leaves the call time to make it."""
        return monotonic() + delay < self.call_end

    def call_expired(self) -> bool:
        return monotonic() >= self.call_end

    @staticmethod
    def capped(timeouts: dict[str, Any], end: float) -> dict[str, Any]:
        """httpx's per-operation timeouts (``request.extensions["timeout"]``), each capped at ``end``."""
        if end == math.inf:
            return timeouts
        left = max(end - monotonic(), 0.001)
        capped: dict[str, Any] = {}
        for key in _TIMEOUT_KEYS:
            value = timeouts.get(key)
            capped[key] = left if value is None or value > left else value
        return capped


def stream_socket(stream: Any) -> Any:
    """The socket under an httpcore network stream, if it can be shut down: a ``socket.socket`` on sync streams,
    asyncio's ``TransportSocket`` (the socket as the event loop lends it) on async ones; None without one."""
    get_extra_info = getattr(stream, "get_extra_info", None)
    if get_extra_info is None:
        return None
    try:
        sock = get_extra_info("socket")
    except Exception:  # a transport that has no such notion
        return None
    return sock if callable(getattr(sock, "shutdown", None)) else None


def _socket_of(response: httpx.Response) -> Any:
    return stream_socket(response.extensions.get("network_stream"))


def _shut(sock: Any) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed: nothing to cut


class Alarm:
    """One armed deadline. ``fired`` tells the reader that a read ended because time was up."""

    __slots__ = ("_handle", "done", "fired", "sock")

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.done = False
        self.fired = False
        self._handle: asyncio.TimerHandle | None = None

    def disarm(self) -> None:
        if self.done:
            return
        if self._handle is not None:
            self._handle.cancel()
            self.done = True
            return
        _WATCHDOG.disarm(self)

    def _fire_async(self) -> None:
        if not self.done:
            self.done = True
            self.fired = True
            if self.sock is not None:
                _shut(self.sock)


class _Watchdog:
    """One thread for every sync alarm of the process, sleeping until the earliest one is due."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Alarm]] = []
        self._order = itertools.count()
        self._cancelled = 0
        self._thread: threading.Thread | None = None

    def arm(self, end: float, alarm: Alarm) -> None:
        with self._cond:
            heapq.heappush(self._heap, (end, next(self._order), alarm))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="cerebras-adapters-deadlines", daemon=True)
                self._thread.start()
            if self._heap[0][2] is alarm:
                self._cond.notify()

    def disarm(self, alarm: Alarm) -> None:
        with self._cond:
            if alarm.done:
                return
            alarm.done = True
            self._cancelled += 1
            # Disarmed alarms wait in the heap until their time; drop them in bulk so a busy process that
            # disarms thousands a second keeps the heap small.
            if self._cancelled > 256 and self._cancelled * 2 > len(self._heap):
                self._heap = [entry for entry in self._heap if not entry[2].done]
                heapq.heapify(self._heap)
                self._cancelled = 0

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                end, _, alarm = self._heap[0]
                if alarm.done:
                    heapq.heappop(self._heap)
                    self._cancelled = max(self._cancelled - 1, 0)
                    continue
                left = end - monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                heapq.heappop(self._heap)
                alarm.done = True
                alarm.fired = True
                sock = alarm.sock
            if sock is not None:
                _shut(sock)


_WATCHDOG = _Watchdog()


def arm_sync(response: httpx.Response, end: float) -> Alarm | None:
    """Cut ``response``'s connection at ``end`` (a ``monotonic()`` time); None when there is no limit."""
    if end == math.inf:
        return None
    alarm = Alarm(_socket_of(response))
    if alarm.sock is not None:
        _WATCHDOG.arm(end, alarm)
    else:
        alarm.done = True  # nothing to cut: the readers' clock check bounds it
    return alarm


def arm_async(response: httpx.Response, end: float) -> Alarm | None:
    """The async twin of ``arm_sync``: a timer on the running loop."""
    if end == math.inf:
        return None
    alarm = Alarm(_socket_of(response))
    if alarm.sock is None:
        alarm.done = True
        return alarm
    loop = asyncio.get_running_loop()
    alarm._handle = loop.call_at(loop.time() + (end - monotonic()), alarm._fire_async)
    return alarm
