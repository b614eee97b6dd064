"""GET /objects: build 100 small objects (generated dataclasses) and return them."""

from generated.api.Objects import Item


async def handler() -> list[Item]:
    return [
        Item(id=i, name=f"item-{i}", price=i * 1.5, active=i % 2 == 0, tags=["bench", "rohas"])
        for i in range(100)
    ]
