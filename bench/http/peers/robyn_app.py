"""The benchmark's handlers on Robyn.

    python robyn_app.py PORT --processes N --workers 1

run.py passes `--processes 1 --workers 1` for its one-core runs and
`--processes N` (N = the CPUs) for its all-cores runs.

Same cases as bench/http/rohas-app: GET /health, POST /users (validated echo,
through Robyn's pydantic body support), GET /objects (100 dataclasses).
"""

import dataclasses
import sys

from pydantic import BaseModel
from robyn import Robyn

app = Robyn(__file__)


class CreateUserInput(BaseModel):
    name: str
    email: str


@dataclasses.dataclass(kw_only=True)
class Item:
    id: int
    name: str
    price: float
    active: bool
    tags: list[str]


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.post("/users")
async def create_user(input: CreateUserInput) -> CreateUserInput:
    return input


@app.get("/objects")
async def objects() -> list:
    # Robyn's executor serializes lists with orjson, which writes dataclasses itself.
    return [
        Item(id=i, name=f"item-{i}", price=i * 1.5, active=i % 2 == 0, tags=["bench", "rohas"])
        for i in range(100)
    ]


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8002
    # Robyn reads --processes/--workers from the command line; run.py passes
    # them after the port.
    sys.argv = [sys.argv[0], *sys.argv[2:]]
    app.start(host="127.0.0.1", port=port)
