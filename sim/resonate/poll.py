"""The message-source port: `GET /<group>/<id>` is a long-lived Server-Sent Events stream of task
messages (`data: {"type": "invoke", "task": {"id", "counter"}}`), as resonate-sdk 0.6.7's `Poller` reads
it (`iter_lines`, lines starting with `data:`). A comment line is sent every few seconds so a client that
went away is noticed and its connection dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from sim.resonate.dispatch import Dispatcher

KEEPALIVE_S = 5.0


def build_poll_app(dispatcher: Dispatcher, stopping: Callable[[], bool]) -> FastAPI:
    app = FastAPI(title="Resonate message source (stepbricks)")

    @app.get("/{group}/{pid}")
    async def poll(group: str, pid: str, request: Request) -> StreamingResponse:
        connection = dispatcher.connect(group, pid)

        async def stream() -> AsyncIterator[str]:
            try:
                yield ": connected\n\n"
                while not stopping():
                    try:
                        message = await asyncio.wait_for(connection.queue.get(), KEEPALIVE_S)
                    except TimeoutError:
                        if await request.is_disconnected():
                            return
                        yield ": keepalive\n\n"
                        continue
                    if message is None:  # the server is stopping
                        return
                    yield f"data: {message}\n\n"
            finally:
                dispatcher.disconnect(connection)

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    return app
