"""GET /version: run.py rewrites this file to measure hot reload."""


async def handler() -> dict:
    return {"version": 0}
