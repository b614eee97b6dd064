// Tests of the handlers through the testing harness: each call goes through
// the engine's own code for calling a handler (its arguments, its result or
// `HttpError`, the events it causes), with no server running.
// Run them with `rohas test` (vitest; `npm install` first): it builds the
// handlers as the engine does, which the harness needs.
import { beforeEach, describe, expect, it } from "vitest";
import { Harness } from "../src/generated/testing";

let harness: Harness;

beforeEach(() => {
  // A fake clock: handlers read it with `state.now()`.
  harness = new Harness({ now: "2026-01-01T09:00:00Z" });
});

describe("api", () => {
  it("health answers ok", async () => {
    const health = await harness.callApi("Health");
    expect(health.value.status).toBe("ok");
    expect(Number.isNaN(Date.parse(health.value.timestamp))).toBe(false);
  });

  it("create_user returns the user, logs it and publishes UserCreated", async () => {
    const created = await harness.callApi("CreateUser", { body: { name: "Ada", email: "ada@example.com" } });
    const user = created.value;
    expect([user.name, user.email]).toEqual(["Ada", "ada@example.com"]);
    expect(user.createdAt).toEqual(harness.clock.now());
    expect(created.logs[0].level).toBe("info");
    expect(created.logs[0].fields.email).toBe("ada@example.com");
    expect(created.events.map((e) => e.event)).toEqual(["UserCreated"]);
  });
});

describe("events and cron", () => {
  it("a new user gets a welcome email", async () => {
    await harness.callApi("CreateUser", { body: { name: "Ada", email: "ada@example.com" } });
    // Deliver what the call published, and what that causes, to any depth.
    const run = await harness.runDue();
    expect(run.handlers).toEqual(["send_welcome_email"]);
    expect(run.runs[0].logs[0].message).toContain("ada@example.com");
  });

  it("publishing UserCreated runs every handler of it", async () => {
    const run = await harness.publish("UserCreated", {
      id: 7,
      name: "Ada",
      email: "ada@example.com",
      createdAt: new Date(),
    });
    expect(run.ok).toBe(true);
    expect(run.of("send_welcome_email")).toHaveLength(1);
  });

  it("the daily cleanup runs", async () => {
    harness.clock.advance({ hours: 15 });
    const cleanup = await harness.runCron("DailyCleanup");
    expect(cleanup.ok).toBe(true);
    expect(cleanup.logs).toHaveLength(1);
  });
});

describe("websockets", () => {
  it("a message goes to every client, stamped", async () => {
    const client = harness.ws("Chat");
    await client.connect();
    const sent = await client.message({ user: "ada", text: "hi" });
    expect(sent.broadcasts).toEqual([
      { endpoint: "Chat", message: { user: "ada", text: "hi", sentAt: "2026-01-01T09:00:00.000Z" } },
    ]);
  });

  it("connect and disconnect are logged", async () => {
    const client = harness.ws("Chat");
    const connected = await client.connect();
    const disconnected = await client.disconnect();
    expect([...connected.logs, ...disconnected.logs].map((l) => l.fields.connection)).toEqual([
      client.connection,
      client.connection,
    ]);
  });
});

describe("middleware", () => {
  it("refuses a request without a token", async () => {
    const refused = await harness.middleware("auth", { headers: {} });
    expect(refused.allowed).toBe(false);
    expect(refused.error?.status).toBe(401);
  });

  it("lets a request with a token through", async () => {
    const passed = await harness.middleware("auth", { headers: { authorization: "Bearer secret" } });
    expect(passed.allowed).toBe(true);
  });
});
