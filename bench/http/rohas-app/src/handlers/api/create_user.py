"""POST /users: the engine validates the body against CreateUserInput; echo it."""

from generated.api.CreateUser import CreateUserInput


async def handler(input: CreateUserInput) -> CreateUserInput:
    return input
