// Middleware `auth`: lets a request through only with a bearer token.
// A real project would check the token; this one accepts any non-empty one.
import { HandlerContext, HttpError } from "../generated/runtime";
import { State } from "../generated/state";

export async function handler(context: HandlerContext, state: State): Promise<void> {
  const headers = (context.metadata["headers"] ?? {}) as Record<string, string | undefined>;
  const header = headers["authorization"] ?? "";
  const token = header.startsWith("Bearer ") ? header.slice("Bearer ".length).trim() : "";
  if (!token) {
    state.logger.warn("request without a bearer token rejected");
    throw new HttpError(401, "missing bearer token: send `Authorization: Bearer <token>`");
  }
}
