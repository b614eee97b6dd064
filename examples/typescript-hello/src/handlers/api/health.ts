// GET /health: answers while the engine runs.
import { HealthResponse } from "../../generated/api/Health";

export async function handler(): Promise<HealthResponse> {
  return {
    status: "ok",
    timestamp: new Date().toISOString(),
  };
}
