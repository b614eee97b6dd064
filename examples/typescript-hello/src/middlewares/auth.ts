// Middleware `auth`: lets a request through only with a bearer token.
// A real project would check the token; this one accepts any non-empty one.
import { header, HandlerContext, HttpError } from "../generated/runtime";
import { State } from "../generated/state";

export async function handler(context: HandlerContext, state: State): Promise<void> {
  const value = header(context, "authorization") ?? "";
  const token = value.startsWith("Bearer ") ? value.slice("Bearer ".length).trim() : "";
  if (!token) {
    state.logger.warn("request without a bearer token rejected");
    throw new HttpError(401, "missing bearer token: send `Authorization: Bearer <token>`");
  }
}
