// POST /users: the engine validates the body against CreateUserInput; echo it.
import { CreateUserInput } from "../../generated/api/CreateUser";

export async function handler(input: CreateUserInput): Promise<CreateUserInput> {
  return input;
}
