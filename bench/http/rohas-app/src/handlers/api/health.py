"""GET /health: a constant JSON object."""


async def handler() -> dict:
    return {"status": "ok"}
