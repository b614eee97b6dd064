// POST /users: register a user. The returned user is the response, and also
// the payload of `UserCreated` (listed in the api's `triggers`), published
// once this handler succeeds. `state.now()` is the clock a test controls
// (the testing harness's fake clock; the system clock under the engine).
import { CreateUserInput, User } from "../../generated/api/CreateUser";
import { State } from "../../generated/state";

let nextId = 1;

export async function handler(input: CreateUserInput, state: State): Promise<User> {
  const user: User = {
    id: nextId++,
    name: input.name,
    email: input.email,
    createdAt: state.now(),
  };
  state.logger.info(`created user ${user.id}`, { email: user.email });
  return user;
}
