"""Middleware `auth`: lets a request through only with a bearer token.

A real project would check the token; this one accepts any non-empty one.
"""

from generated.runtime import HandlerContext, HttpError
from generated.state import State


async def handler(context: HandlerContext, state: State) -> None:
    header = str(context.headers.get("authorization", ""))
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if not token:
        state.logger.warn("request without a bearer token rejected")
        raise HttpError(401, "missing bearer token: send `Authorization: Bearer <token>`")
