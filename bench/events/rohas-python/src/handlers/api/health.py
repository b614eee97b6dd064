"""GET /health: run.py's readiness probe."""


async def handler() -> dict:
    return {"status": "ok"}
