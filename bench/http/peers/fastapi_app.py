"""The benchmark's handlers on FastAPI, served by uvicorn (uvloop + httptools).

    python fastapi_app.py PORT [--workers N]

One worker by default (run.py's one-core runs); `--workers N` for its
all-cores runs, where uvicorn forks N worker processes (it then needs the
app as an import string, hence "fastapi_app:app").

Same cases as bench/http/rohas-app: GET /health, POST /users (validated echo),
GET /objects (100 dataclasses), POST /events/trigger + GET /events/count are
Rohas-only (they measure its event bus) and have no peer here.
"""

import dataclasses
import sys

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


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
async def objects() -> list[Item]:
    return [
        Item(id=i, name=f"item-{i}", price=i * 1.5, active=i % 2 == 0, tags=["bench", "rohas"])
        for i in range(100)
    ]


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8001
    workers = int(sys.argv[sys.argv.index("--workers") + 1]) if "--workers" in sys.argv else 1
    uvicorn.run(
        "fastapi_app:app" if workers > 1 else app,
        host="127.0.0.1",
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )
