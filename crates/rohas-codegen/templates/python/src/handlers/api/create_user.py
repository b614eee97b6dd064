"""POST /users: register a user.

The returned user is the response, and also the payload of `UserCreated`
(listed in the api's `triggers`), published once this handler succeeds.
"""

import itertools

from generated.api.CreateUser import CreateUserInput, User
from generated.state import State

_next_id = itertools.count(1)


async def handler(input: CreateUserInput, state: State) -> User:
    user = User(
        id=next(_next_id),
        name=input.name,
        email=input.email,
        created_at=state.now(),
    )
    state.logger.info(f"created user {user.id}", email=user.email)
    return user
