// GET /health: a constant JSON object.
import { HealthResponse } from "../../generated/api/Health";

export async function handler(): Promise<HealthResponse> {
  return { status: "ok" };
}
