"""GET /health: answers while the engine runs."""

from datetime import datetime, timezone

from generated.api.Health import HealthResponse


async def handler() -> HealthResponse:
    return HealthResponse(
        status="ok",
        timestamp=datetime.now(timezone.utc).isoformat(),
    )
