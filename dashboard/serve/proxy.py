"""A sticky reverse proxy in front of several Streamlit processes (`serve --workers N`).

One Streamlit process runs every session's script under one GIL: however many cores the
server has, it uses about one. Several processes use several, but a session must stay
with its process: the WebSocket carries the session, and the files a session offers
(CSV downloads, uploads of the Données page) live in that process's memory and are
fetched over plain HTTP. The proxy pins a browser to a worker with a cookie set on its
first response (a new browser gets the next worker in turn) and forwards everything else
unchanged — headers included, so the identity header of an authenticating proxy in front
and Streamlit's own XSRF cookie reach the worker as they came.

In header mode a Guard decides, with the connection's real peer address the workers never
see, whether a request comes from the authenticating proxy (dashboard/core/proxy_trust.py):
if so the request reaches the worker with this run's worker secret, if not without any
identity header. Client copies of the secret header never reach a worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import websockets
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from dashboard.core.proxy_trust import SECRET_HEADER, ProxyTrust

COOKIE = "cc_worker"
WORKER_HEADER = "X-Dashboard-Worker"  # on HTTP responses: which worker answered
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "host", "content-length", "date",
              "server"}
# Set by the WebSocket client library itself on the worker side.
WS_OWN = {"sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions",
          "sec-websocket-protocol", "connection", "upgrade", "host", "user-agent"}

log = logging.getLogger("dashboard.proxy")


class Workers:
    """The workers' addresses ("127.0.0.1:8601", ...) and which one a browser goes to."""

    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses
        self._turn = itertools.cycle(range(len(addresses)))

    def pick(self, cookie: str | None) -> tuple[int, bool]:
        """(worker index, whether it is a new choice): the cookie's worker, else the next."""
        if cookie is not None and cookie.isdigit() and int(cookie) < len(self.addresses):
            return int(cookie), False
        return next(self._turn), True


@dataclass(frozen=True)
class Guard:
    """Header mode: who is the authenticating proxy, and how the workers learn it."""

    trust: ProxyTrust
    worker_secret: str
    identity_header: str

    def headers(self, headers: list[tuple[str, str]], peer: str | None) -> list[tuple[str, str]]:
        """HEADERS as a worker gets them from PEER: vouched for with the worker secret,
        or stripped of the identity header."""
        offered = [v for k, v in headers if k.lower() == SECRET_HEADER.lower()]
        out = [(k, v) for k, v in headers if k.lower() != SECRET_HEADER.lower()]
        if self.trust.trusts(offered, peer or ""):
            return [*out, (SECRET_HEADER, self.worker_secret)]
        return [(k, v) for k, v in out if k.lower() != self.identity_header.lower()]


def app(addresses: list[str], guard: Guard | None = None) -> Starlette:
    """The proxy's ASGI application, forwarding to the workers at ADDRESSES."""
    workers = Workers(addresses)

    def vouched(headers: list[tuple[str, str]], client) -> list[tuple[str, str]]:
        return guard.headers(headers, client.host if client else None) if guard else headers
    client = httpx.AsyncClient(timeout=httpx.Timeout(300.0, connect=10.0),
                               limits=httpx.Limits(max_connections=200))

    async def forward_http(request: Request) -> Response:
        index, new = workers.pick(request.cookies.get(COOKIE))
        url = httpx.URL(f"http://{workers.addresses[index]}{request.url.path}",
                        query=request.url.query.encode())
        headers = vouched([(k, v) for k, v in request.headers.items()
                           if k.lower() not in HOP_BY_HOP], request.client)
        headers.append(("host", request.headers.get("host", "")))
        body = await request.body()
        try:
            upstream = await client.send(
                client.build_request(request.method, url, headers=headers, content=body),
                stream=True)
        except httpx.HTTPError as exc:
            log.warning("worker %s unreachable: %s", index, exc)
            return Response("Service momentanément indisponible.", status_code=502)
        out_headers = {k: v for k, v in upstream.headers.multi_items()
                       if k.lower() not in HOP_BY_HOP and k.lower() != "set-cookie"}
        response = StreamingResponse(upstream.aiter_raw(), status_code=upstream.status_code,
                                     headers=out_headers,
                                     background=BackgroundTask(upstream.aclose))
        for cookie in upstream.headers.get_list("set-cookie"):
            response.raw_headers.append((b"set-cookie", cookie.encode("latin-1")))
        response.headers[WORKER_HEADER] = str(index)
        if new:
            response.set_cookie(COOKIE, str(index), path="/", httponly=True, samesite="lax")
        return response

    async def forward_ws(websocket: WebSocket) -> None:
        index, _ = workers.pick(websocket.cookies.get(COOKIE))
        # Streamlit refuses a WebSocket whose Origin is not its own host (hijacking from
        # another site): the check is made here, against the host the browser asked for,
        # and the worker is shown its own address.
        origin = websocket.headers.get("origin")
        if origin and urlsplit(origin).netloc != websocket.headers.get("host"):
            log.warning("refused a session from origin %s", origin)
            await websocket.close(code=1008)
            return
        path = websocket.url.path + (f"?{websocket.url.query}" if websocket.url.query else "")
        offered = [p.strip() for p in
                   websocket.headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
        headers = vouched([(k, v) for k, v in websocket.headers.items()
                           if k.lower() not in WS_OWN and k.lower() != "origin"],
                          websocket.client)
        if origin:
            headers.append(("origin", f"http://{workers.addresses[index]}"))
        try:
            upstream = await websockets.connect(
                f"ws://{workers.addresses[index]}{path}", additional_headers=headers,
                subprotocols=offered or None, max_size=None, ping_interval=None,
                open_timeout=30, compression=None,
                user_agent_header=websocket.headers.get("user-agent"))
        except Exception as exc:  # the worker is down or refused: close like it would
            log.warning("worker %s refused a session: %s", index, exc)
            await websocket.close(code=1011)
            return
        await websocket.accept(subprotocol=upstream.subprotocol)

        async def browser_to_worker() -> None:
            try:
                while True:
                    message = await websocket.receive()
                    if message["type"] == "websocket.disconnect":
                        break
                    data = message.get("bytes")
                    await upstream.send(data if data is not None else message.get("text", ""))
            except (WebSocketDisconnect, websockets.ConnectionClosed):
                pass

        async def worker_to_browser() -> None:
            try:
                async for data in upstream:
                    if isinstance(data, bytes):
                        await websocket.send_bytes(data)
                    else:
                        await websocket.send_text(data)
            except (WebSocketDisconnect, websockets.ConnectionClosed, RuntimeError):
                pass

        tasks = [asyncio.create_task(browser_to_worker()),
                 asyncio.create_task(worker_to_browser())]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        await upstream.close()
        try:
            await websocket.close()
        except RuntimeError:  # already closed by the browser
            pass

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        await client.aclose()

    methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]
    return Starlette(routes=[WebSocketRoute("/{path:path}", forward_ws),
                             Route("/{path:path}", forward_http, methods=methods)],
                     lifespan=lifespan)
