// Tests of the handlers, called as plain functions: no engine, no server.
// Run them with `rohas test` (vitest; `npm install` first) or `npx vitest run`.
//
// Each test builds what the engine would pass (generated types, a `State`
// whose host records what the handler logs) and checks what comes back.
import { describe, expect, it } from "vitest";
import { HandlerContext, Host, HttpError, LogFields, LogLevel } from "../src/generated/runtime";
import { State } from "../src/generated/state";
import { handler as createUser } from "../src/handlers/api/create_user";
import { handler as health } from "../src/handlers/api/health";
import { handler as dailyCleanup } from "../src/handlers/cron/daily_cleanup";
import { handler as sendWelcomeEmail } from "../src/handlers/events/send_welcome_email";
import { onConnect, onDisconnect, onMessage } from "../src/handlers/websockets/chat";
import { handler as auth } from "../src/middlewares/auth";

/** Stands in for the engine: keeps what a handler logs and sends. */
class RecordingHost implements Host {
  logs: { level: LogLevel; message: string; fields: LogFields }[] = [];
  sent: unknown[] = [];
  log(level: LogLevel, message: string, fields: LogFields): void {
    this.logs.push({ level, message, fields });
  }
  broadcast(_endpoint: string, message: unknown): void {
    this.sent.push(message);
  }
  send(_connectionId: string, message: unknown): void {
    this.sent.push(message);
  }
}

function stateFor(handler: string): [State, RecordingHost] {
  const host = new RecordingHost();
  return [new State(handler, "test-trace", host), host];
}

function context(metadata: HandlerContext["metadata"]): HandlerContext {
  return { handler_name: "test", payload: null, query_params: {}, metadata };
}

describe("api", () => {
  it("health answers ok", async () => {
    const answer = await health();
    expect(answer.status).toBe("ok");
    expect(Number.isNaN(Date.parse(answer.timestamp))).toBe(false);
  });

  it("create_user returns the user and logs it", async () => {
    const [state, host] = stateFor("CreateUser");
    const user = await createUser({ name: "Ada", email: "ada@example.com" }, state);
    expect([user.name, user.email]).toEqual(["Ada", "ada@example.com"]);
    expect(user.id).toBeGreaterThan(0);
    expect(host.logs[0].level).toBe("info");
    expect(host.logs[0].fields.email).toBe("ada@example.com");
  });
});

describe("events and cron", () => {
  it("a welcome email is logged for the user", async () => {
    const [state, host] = stateFor("send_welcome_email");
    const user = { id: 7, name: "Ada", email: "ada@example.com" };
    await sendWelcomeEmail({ ...user, payload: user, timestamp: new Date(), trace_id: "t" }, state);
    expect(host.logs[0].message).toContain("ada@example.com");
  });

  it("the daily cleanup runs", async () => {
    const [state, host] = stateFor("DailyCleanup");
    await dailyCleanup(state);
    expect(host.logs).toHaveLength(1);
  });
});

describe("websockets", () => {
  it("a message comes back stamped", async () => {
    const [state] = stateFor("Chat");
    const reply = await onMessage({ user: "ada", text: "hi" }, state);
    expect([reply.user, reply.text]).toEqual(["ada", "hi"]);
    expect(reply.sentAt).toBeInstanceOf(Date);
  });

  it("connect and disconnect are logged", async () => {
    const [state, host] = stateFor("Chat");
    await onConnect(context({ connection_id: "c1" }), state);
    await onDisconnect(context({ connection_id: "c1" }), state);
    expect(host.logs.map((l) => l.fields.connection)).toEqual(["c1", "c1"]);
  });
});

describe("middleware", () => {
  it("refuses a request without a token", async () => {
    const [state] = stateFor("auth");
    const refused = auth(context({ headers: {} }), state);
    await expect(refused).rejects.toBeInstanceOf(HttpError);
    await expect(refused).rejects.toMatchObject({ status: 401 });
  });

  it("lets a request with a token through", async () => {
    const [state] = stateFor("auth");
    await expect(auth(context({ headers: { authorization: "Bearer secret" } }), state)).resolves.toBeUndefined();
  });
});
