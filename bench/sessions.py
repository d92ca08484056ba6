"""A Streamlit session driven over its own protocol, as a browser tab drives it.

The browser's part of a Streamlit page is a WebSocket (`/_stcore/stream`) carrying
protobuf messages: the tab sends a `rerun_script` BackMsg naming the page (and its
query string), the server runs the page's script and streams ForwardMsgs (the page's
elements) until `script_finished`. This client sends the same messages and waits for the
same end, so a load of many sessions costs the load generator almost nothing: on a
machine with two cores, thirty headless Chromiums measure the browsers, not the server.
What the user's own browser then spends drawing the page is measured apart, by one real
Chromium (bench/load.py).
"""

from __future__ import annotations

import asyncio
import time

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

FINISHED = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)


class PageError(Exception):
    """The page did not render: an exception shown, a failed run, a page not found."""


class Session:
    """One session: `await Session.open(base, headers)`, then `await session.page(name)`."""

    def __init__(self, socket) -> None:
        self.socket = socket
        # Read all the time, as a browser does: the server writes to its sessions from
        # one loop, so a session that stops reading would hold every other one.
        self.inbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for data in self.socket:
                self.inbox.put_nowait(data if isinstance(data, bytes) else data.encode())
        except websockets.ConnectionClosed:
            pass
        finally:
            self.inbox.put_nowait(None)

    @classmethod
    async def open(cls, base: str, headers: dict[str, str], timeout: float = 120) -> Session:
        """Connect a new session to the server at BASE (http://host:port) with HEADERS."""
        socket = await websockets.connect(
            base.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"],
            additional_headers=headers, max_size=None, open_timeout=timeout,
            ping_interval=None, max_queue=None)
        return cls(socket)

    async def page(self, name: str = "", query: str = "", expect: str | None = None,
                   timeout: float = 120) -> dict:
        """Run page NAME (its url_path; "" is the home page) as a click in the menu does;
        return its seconds to the last element, its messages and bytes. Raises PageError
        when the page fails, or when no heading of it contains EXPECT (e.g. its title)."""
        msg = BackMsg()
        msg.rerun_script.page_name = name
        msg.rerun_script.query_string = query
        msg.rerun_script.context_info.timezone = "Europe/Paris"
        msg.rerun_script.context_info.locale = "fr-FR"
        while not self.inbox.empty():  # what came since the last page is not this page's
            if self.inbox.get_nowait() is None:
                raise PageError("the server closed the session")
        began = time.perf_counter()
        await self.socket.send(msg.SerializeToString())
        messages = size = 0
        found = expect is None
        deadline = began + timeout
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise PageError(f"no end of page {name!r} within {timeout:g} s")
            try:
                data = await asyncio.wait_for(self.inbox.get(), remaining)
            except asyncio.TimeoutError:
                raise PageError(f"no end of page {name!r} within {timeout:g} s") from None
            if data is None:
                raise PageError("the server closed the session")
            messages += 1
            size += len(data)
            forward = ForwardMsg()
            forward.ParseFromString(data)
            kind = forward.WhichOneof("type")
            if kind == "delta" and forward.delta.new_element.WhichOneof("type") == "exception":
                exception = forward.delta.new_element.exception
                raise PageError(f"exception on {name!r}: {exception.message[:200]}",
                                list(exception.stack_trace))
            if kind == "page_not_found":
                raise PageError(f"page {name!r} not found")
            if not found and kind == "delta" \
                    and forward.delta.new_element.WhichOneof("type") == "heading" \
                    and expect in forward.delta.new_element.heading.body:
                found = True
            if kind == "script_finished":
                if forward.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # the script asked for a rerun: the page comes with it
                if forward.script_finished not in FINISHED:
                    raise PageError(f"page {name!r} ended with status "
                                    f"{forward.script_finished}")
                if not found:
                    raise PageError(f"page {name!r} does not show {expect!r}")
                return {"seconds": time.perf_counter() - began, "messages": messages,
                        "bytes": size}

    async def close(self) -> None:
        """End the session (the server forgets it)."""
        await self.socket.close()
        await self.reader


def run_async(coroutine):
    """Run COROUTINE to its end in a thread of its own, with its own event loop: callers
    may already be inside a loop (Playwright's sync API keeps one in the main thread)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
