/**
 * The testing harness behind `testing.ts`: calls handlers by their schema
 * names the way the engine does, and plays the engine's part around them
 * (events, triggers, WebSockets, cron, middlewares, a fake clock).
 *
 * Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.
 *
 * How it reaches the engine's own code
 * ------------------------------------
 * `rohas test` builds the handlers with the engine's compiler and writes the
 * handler table the engine's Node.js workers load (`.rohas/test/handlers.json`:
 * which export each handler is, what each parameter gets, where its inputs
 * hold dates) and the workers' dispatch module (`.rohas/rohas-dispatch.mjs`:
 * argument building, result and error conversion, state effects). The
 * harness imports both, so a handler gets exactly the arguments the engine
 * would give it, and its result, `HttpError` or broken return value comes
 * out as the engine would see it. What the engine does in Rust around a call
 * is done here, in the same order: the request, event, cron, ws and
 * middleware objects, an api's or cron's `triggers` (payload from
 * `setPayload`, else the return value), an event's `triggers` once all its
 * handlers succeeded, delayed events held until the clock reaches them.
 *
 * Typed query parameters: an api with `query:` takes `query` (its
 * `<Api>Query`, or the named record) in `callApi`'s input, as the request
 * has it. The handler gets it as the engine sends it: JSON (`Date`s as
 * RFC 3339 strings, revived by the dispatch module), a `null` or missing
 * value left out, as a parameter the client did not send. `queryParams`
 * then defaults to the strings a URL would carry (`true`/`false`, a list's
 * last item, as the engine's map keeps the last of a repeated parameter);
 * ones given in `queryParams` win.
 *
 * Differences from the engine, on purpose: event handlers run one after
 * another in schema order and a failed one is not retried; request bodies
 * and event payloads are not checked against the schema (the input types
 * are); `console.*` output goes to the test's output, not to `logs`.
 */

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { HttpError } from "./runtime";
import type { HandlerContext, Host, LogFields, LogLevel } from "./runtime";

// ------------------------------------------------------------------ results

/** One log line a handler wrote through `state.logger`. */
export interface LogLine {
  level: LogLevel;
  message: string;
  fields: LogFields;
}

/** An event a handler caused, as the engine would publish it (JSON payload). */
export interface PublishedEvent {
  event: string;
  payload: unknown;
  /** Milliseconds the event is held back, when `triggerEvent` asked for it. */
  delay?: number;
}

/** A `state.broadcast` to every client of a WebSocket endpoint. */
export interface Broadcast {
  endpoint: string;
  message: unknown;
}

/** What one handler call did, whatever its kind. */
export class CallResult {
  /** The handler's failure: its `HttpError`, or a 500 for anything else thrown. */
  readonly error: HttpError | null;
  /** The return value as JSON, as the engine sends it (null when it failed). */
  readonly body: unknown;
  /** Events it caused, schema `triggers` first, then `triggerEvent` calls. */
  readonly events: PublishedEvent[];
  /** Lines it logged through `state.logger`, in order. */
  readonly logs: LogLine[];
  /** Messages sent to the WebSocket connection (`connection.send`, a ws reply). */
  readonly sent: unknown[];
  /** `state.broadcast` calls, and ws replies of a broadcasting endpoint. */
  readonly broadcasts: Broadcast[];
  /** Whether `NonRetryableError` (or a subclass) was thrown. */
  readonly nonRetryable: boolean;

  constructor(parts: {
    error: HttpError | null;
    body: unknown;
    events: PublishedEvent[];
    logs: LogLine[];
    sent: unknown[];
    broadcasts: Broadcast[];
    nonRetryable: boolean;
  }) {
    this.error = parts.error;
    this.body = parts.body;
    this.events = parts.events;
    this.logs = parts.logs;
    this.sent = parts.sent;
    this.broadcasts = parts.broadcasts;
    this.nonRetryable = parts.nonRetryable;
  }

  /** Whether the handler succeeded. */
  get ok(): boolean {
    return this.error === null;
  }
}

/** An api call: `value` is what the handler returned, typed by the schema. */
export class ApiResult<T> extends CallResult {
  private readonly returned: T | undefined;

  constructor(parts: ConstructorParameters<typeof CallResult>[0], returned: T | undefined) {
    super(parts);
    this.returned = returned;
  }

  /** The handler's return value; throws the failure when it failed. */
  get value(): T {
    if (this.error !== null) {
      throw new Error(`the handler failed with ${this.error.status}: ${this.error.message}`);
    }
    return this.returned as T;
  }
}

/** A middleware's verdict. */
export interface MiddlewareResult {
  /** False when it threw: `error` holds the `HttpError` the client would get. */
  allowed: boolean;
  error: HttpError | null;
  /** The context it returned to continue with, if any (`{payload, query_params, headers}`). */
  context: unknown;
  logs: LogLine[];
}

/** One event handler's run in an `EventRun`. */
export interface HandlerRun {
  /** The handler's id (`event:UserCreated:send_welcome_email`). */
  id: string;
  /** The handler's name in the schema (`send_welcome_email`). */
  handler: string;
  /** The event it received. */
  event: string;
  /** The payload it received, as JSON. */
  payload: unknown;
  /** How many events led to this one (0: published by the test or a handler call). */
  depth: number;
  ok: boolean;
  error: HttpError | null;
  nonRetryable: boolean;
  logs: LogLine[];
  /** Events this run caused (published only when it succeeded). */
  triggered: PublishedEvent[];
  broadcasts: Broadcast[];
}

/** Everything that ran for `publish` or `runDue`, in order, to any depth. */
export class EventRun {
  /** Each handler run, in delivery order. */
  readonly runs: HandlerRun[] = [];
  /** Every event delivered, in order (handlers or not). */
  readonly delivered: PublishedEvent[] = [];

  /** Whether every handler run succeeded. */
  get ok(): boolean {
    return this.runs.every((r) => r.ok);
  }

  /** The names of the handlers that ran, in order. */
  get handlers(): string[] {
    return this.runs.map((r) => r.handler);
  }

  /** The runs of one handler (by name or id). */
  of(handler: string): HandlerRun[] {
    return this.runs.filter((r) => r.handler === handler || r.id === handler);
  }
}

// ------------------------------------------------------------------ clock

/** A length of time: milliseconds, or parts of it. */
export type Duration =
  | number
  | { days?: number; hours?: number; minutes?: number; seconds?: number; milliseconds?: number };

function milliseconds(duration: Duration): number {
  if (typeof duration === "number") {
    return duration;
  }
  const { days = 0, hours = 0, minutes = 0, seconds = 0, milliseconds: ms = 0 } = duration;
  return (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000 + ms;
}

/**
 * The time handlers see through `state.now()`, cron runs' `scheduled_at`
 * and events' `timestamp`. It moves only when told to.
 */
export class FakeClock {
  private ms: number;

  constructor(start: Date | string | number = Date.now()) {
    this.ms = new Date(start).getTime();
    if (Number.isNaN(this.ms)) {
      throw new RangeError(`the clock's start must be a date, not ${String(start)}`);
    }
  }

  /** The current fake time. */
  now(): Date {
    return new Date(this.ms);
  }

  /** The current fake time in milliseconds since the epoch. */
  millis(): number {
    return this.ms;
  }

  /** Move forward by `duration`; delayed events that became due wait for `runDue()`. */
  advance(duration: Duration): void {
    const step = milliseconds(duration);
    if (!Number.isFinite(step) || step < 0) {
      throw new RangeError(`the clock only moves forward: advance by a non-negative duration, not ${String(step)}`);
    }
    this.ms += step;
  }

  /** Jump to `time` (forward only). */
  set(time: Date | string | number): void {
    const next = new Date(time).getTime();
    if (Number.isNaN(next) || next < this.ms) {
      throw new RangeError(`the clock only moves forward: cannot set it to ${String(time)}`);
    }
    this.ms = next;
  }
}

// ------------------------------------------------------------------ schema

/** The part of the schema the harness plays the engine by (written into `testing.ts`). */
export interface SchemaPlan {
  /** `query`: the api declares typed query parameters (`query:`). */
  apis: { [name: string]: { id: string; triggers: string[]; query?: boolean } };
  events: { [name: string]: { handlers: string[]; triggers: string[] } };
  crons: { [name: string]: { id: string; schedule: string; triggers: string[] } };
  websockets: {
    [name: string]: {
      connect: string[];
      message: string[];
      disconnect: string[];
      triggers: string[];
      broadcast: boolean;
    };
  };
  middlewares: { [name: string]: { id: string } };
}

/** Options of `new Harness(...)`. */
export interface HarnessOptions {
  /** Where the fake clock starts (default: the real time now). */
  now?: Date | string | number;
  /** How many event hops `publish` follows before it stops with an error (default 32). */
  maxDepth?: number;
}

/** The optional parts of a request: path parameters and body are the api's own. */
export type ApiInput<R> = Omit<R, "queryParams" | "headers"> & {
  queryParams?: { [name: string]: string };
  headers?: { [name: string]: string };
};

/** `callApi`'s input: optional when the api needs no body or path parameter. */
export type ApiArgs<R> = {} extends ApiInput<R> ? [input?: ApiInput<R>] : [input: ApiInput<R>];

/** What a test passes to a middleware: the request as the engine hands it over. */
export interface MiddlewareInput {
  payload?: unknown;
  query_params?: { [name: string]: string };
  headers?: { [name: string]: string };
}

// ------------------------------------------------------------------ the engine's modules

/** A handler as the worker's dispatch module loaded it. */
interface LoadedHandler {
  id: string;
  name: string;
  kind: string;
  file: string;
  fn: (...args: unknown[]) => unknown;
}

interface Table {
  handlers: Map<string, LoadedHandler>;
}

interface Call {
  handler: LoadedHandler;
  traceId: string;
  state: { _triggered: unknown[] } | null;
}

/** `rohas-dispatch.mjs`, the engine's code for calling one handler. */
interface Dispatch {
  loadTable(
    message: unknown,
    importModule: (url: string) => Promise<unknown>,
    importing: (file: string) => void,
  ): Promise<{ table: Table | null; errors: string[] }>;
  argumentsFor(table: Table, call: Call, data: unknown, hostOf: (call: Call) => Host): unknown[];
  settle(call: Call, value: unknown): { frame: "value" | "done"; text: string } | { frame: "fail"; body: Failure };
  failure(error: unknown, dev: boolean): Failure;
}

/** A `WireFailure`. */
interface Failure {
  status?: number;
  message: string;
  details?: unknown;
  stack?: string | null;
  retryable?: boolean;
}

interface TableFile {
  handlers: { id: string; file: string; url: string }[];
  state_url?: string | null;
  runtime_url?: string | null;
  [key: string]: unknown;
}

/** Where the project is, and whether this module runs from the engine's build (`node --test`). */
function location(): { root: string; compiled: boolean } {
  const here = fileURLToPath(import.meta.url);
  const marker = `${sep}.rohas${sep}`;
  const at = here.lastIndexOf(marker);
  if (at >= 0) {
    return { root: here.slice(0, at), compiled: true };
  }
  return { root: resolve(dirname(here), "..", ".."), compiled: false };
}

/** The module to import for source file `file` (relative to the project). */
function moduleUrl(root: string, compiled: boolean, file: string): string {
  if (!compiled) {
    return pathToFileURL(join(root, file)).href;
  }
  const inSrc = file.replace(/^src[\\/]/, "");
  const js = inSrc.replace(/\.mts$/, ".mjs").replace(/\.(ts|tsx)$/, ".js");
  return pathToFileURL(join(root, ".rohas", "build", js)).href;
}

interface Loaded {
  dispatch: Dispatch;
  table: Table;
}

async function loadEngine(): Promise<Loaded> {
  const { root, compiled } = location();
  const tablePath = join(root, ".rohas", "test", "handlers.json");
  const dispatchPath = join(root, ".rohas", "rohas-dispatch.mjs");
  if (!existsSync(tablePath) || !existsSync(dispatchPath)) {
    throw new Error(
      `the testing harness needs ${tablePath}: run the tests with \`rohas test\`, which builds the handlers as the engine does and writes it`,
    );
  }
  const file = JSON.parse(readFileSync(tablePath, "utf8")) as TableFile;
  const message: TableFile = {
    ...file,
    handlers: file.handlers.map((h) => ({ ...h, url: moduleUrl(root, compiled, h.file) })),
    state_url: moduleUrl(root, compiled, "src/generated/state.ts"),
    runtime_url: moduleUrl(root, compiled, "src/generated/runtime.ts"),
  };
  const dispatch = (await import(pathToFileURL(dispatchPath).href)) as Dispatch;
  // The import stays in this module, so a test runner that compiles
  // TypeScript (vitest) loads the handlers as it loads the tests.
  const loaded = await dispatch.loadTable(message, (url) => import(url), () => {});
  if (loaded.table === null) {
    throw new Error(`the handlers did not load:\n  ${loaded.errors.join("\n  ")}`);
  }
  return { dispatch, table: loaded.table };
}

// ------------------------------------------------------------------ the harness

/** What one call recorded, before it becomes a result. */
interface Outcome {
  returned: unknown;
  body: unknown;
  error: HttpError | null;
  nonRetryable: boolean;
  triggered: PublishedEvent[];
  payloads: { [event: string]: unknown };
  logs: LogLine[];
  sent: unknown[];
  broadcasts: Broadcast[];
}

/** An event waiting in the harness's queue. */
interface Message {
  event: string;
  payload: unknown;
  due: number;
  /** The events that led to it, oldest first. */
  chain: string[];
  traceId: string;
  source: string;
}

function wire(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? null : (JSON.parse(text) as unknown);
}

/** A typed query in wire form, `null` and missing values left out. */
function typedQuery(query: unknown): { [name: string]: unknown } {
  const wired = wire(query ?? {});
  if (wired === null || typeof wired !== "object" || Array.isArray(wired)) {
    throw new Error("query must be an object of the api's query parameters");
  }
  return Object.fromEntries(Object.entries(wired).filter(([, v]) => v !== null));
}

/** A wire value as a URL carries it (an array: its last item, as the engine keeps). */
function queryString(value: unknown): string {
  return Array.isArray(value) ? queryString(value[value.length - 1]) : String(value);
}

function known(kind: string, names: string[]): string {
  return names.length === 0 ? `the schema declares no ${kind}` : `the ${kind} are: ${names.sort().join(", ")}`;
}

/**
 * The schema-independent harness; `Harness` in `testing.ts` is this class
 * typed with the project's names.
 */
export class HarnessCore<
  A extends { [K in keyof A]: { request: unknown; response: unknown } },
  E extends { [K in keyof E]: unknown },
  W extends { [K in keyof W]: unknown },
  C extends string,
  M extends string,
> {
  /** The clock handlers see; `advance` it, then `runDue()` delivers what became due. */
  readonly clock: FakeClock;
  private readonly plan: SchemaPlan;
  private readonly maxDepth: number;
  private engine: Promise<Loaded> | null = null;
  private queue: Message[] = [];
  private traces = 0;
  private connections = 0;

  constructor(plan: SchemaPlan, options: HarnessOptions = {}) {
    this.plan = plan;
    this.clock = new FakeClock(options.now);
    this.maxDepth = options.maxDepth ?? 32;
  }

  /** Events caused and not delivered yet (delayed ones not due included). */
  get pending(): PublishedEvent[] {
    return this.queue.map((m) => ({ event: m.event, payload: m.payload }));
  }

  /**
   * Call api `name`'s handler with its request (`body`, path parameters,
   * optional `queryParams` and `headers`); its middlewares are not run
   * (`middleware()` runs one). The events it causes wait for `runDue()`.
   */
  async callApi<N extends keyof A & string>(
    name: N,
    ...input: ApiArgs<A[N]["request"]>
  ): Promise<ApiResult<A[N]["response"]>> {
    const api = this.lookup("apis", this.plan.apis, name);
    const given = (input[0] ?? {}) as { [key: string]: unknown };
    const { queryParams = {}, headers = {}, body = null, ...params } = given;
    let request: { [key: string]: unknown };
    if (api.query === true) {
      const query = typedQuery(params.query);
      delete params.query;
      const strings = Object.entries(query)
        .filter(([, v]) => !(Array.isArray(v) && v.length === 0))
        .map(([k, v]) => [k, queryString(v)]);
      const all = { ...Object.fromEntries(strings), ...(queryParams as object) };
      request = wire({ ...params, query, query_params: all, body, headers }) as { [key: string]: unknown };
    } else {
      request = wire({ ...params, query_params: queryParams, body, headers }) as { [key: string]: unknown };
    }
    const traceId = this.traceId();
    const outcome = await this.invoke(api.id, traceId, {
      request,
      payload: request.body,
      query_params: request.query_params,
      metadata: { path_params: wire(params), headers: request.headers, api: name, attempt: 1 },
    });
    const events = this.publishAfter(outcome, api.triggers, () => outcome.body, [], traceId, api.id);
    return new ApiResult(this.parts(outcome, events), outcome.returned as A[N]["response"]);
  }

  /**
   * Publish `event` with `payload`, then deliver everything due: every
   * handler of the event in schema order, then what they (and the event's
   * `triggers`) caused, to any depth.
   */
  async publish<N extends keyof E & string>(event: N, payload: E[N]): Promise<EventRun> {
    this.lookup("events", this.plan.events, event);
    this.queue.push({
      event,
      payload: wire(payload),
      due: this.clock.millis(),
      chain: [],
      traceId: this.traceId(),
      source: "test",
    });
    return this.runDue();
  }

  /** Deliver every queued event that is due by the clock, and what they cause. */
  async runDue(): Promise<EventRun> {
    const run = new EventRun();
    for (;;) {
      const now = this.clock.millis();
      const index = this.nextDue(now);
      if (index < 0) {
        return run;
      }
      const [message] = this.queue.splice(index, 1);
      await this.deliver(message, run);
    }
  }

  /** Run cron job `name` once, now by the fake clock. */
  async runCron(name: C): Promise<CallResult> {
    const cron = this.lookup("cron jobs", this.plan.crons, name);
    const traceId = this.traceId();
    const request = { name, scheduled_at: this.clock.now().toISOString() };
    const outcome = await this.invoke(cron.id, traceId, {
      request,
      payload: null,
      query_params: {},
      metadata: { schedule: cron.schedule },
    });
    const events = this.publishAfter(outcome, cron.triggers, () => outcome.body, [], traceId, cron.id);
    return new CallResult(this.parts(outcome, events));
  }

  /**
   * Run middleware `name` on a request: allowed (perhaps with a changed
   * context) or refused with the `HttpError` the client would get.
   */
  async middleware(name: M, input: MiddlewareInput = {}): Promise<MiddlewareResult> {
    const middleware = this.lookup("middlewares", this.plan.middlewares, name);
    const context = wire({
      payload: input.payload ?? null,
      query_params: input.query_params ?? {},
      headers: input.headers ?? {},
    }) as { payload: unknown; query_params: { [name: string]: string }; headers: unknown };
    const outcome = await this.invoke(middleware.id, this.traceId(), {
      request: context,
      payload: context.payload,
      query_params: context.query_params,
      metadata: { headers: context.headers },
    });
    return {
      allowed: outcome.error === null,
      error: outcome.error,
      context: outcome.error === null && outcome.body !== null ? outcome.body : null,
      logs: outcome.logs,
    };
  }

  /** A client of WebSocket endpoint `name`: `connect()`, `message(...)`, `disconnect()`. */
  ws<N extends keyof W & string>(name: N, options: { headers?: { [name: string]: string } } = {}): WsSession<W[N]> {
    const ws = this.lookup("WebSocket endpoints", this.plan.websockets, name);
    this.connections += 1;
    const connection = `test-connection-${this.connections}`;
    const headers = options.headers ?? {};
    const hook = async (ids: string[], message: unknown, kind: "connect" | "message" | "disconnect") => {
      const traceId = this.traceId();
      const all: Outcome[] = [];
      for (const id of ids) {
        if (!(await this.has(id))) {
          continue;
        }
        const outcome = await this.invoke(
          id,
          traceId,
          {
            request: kind === "message" ? message : null,
            payload: kind === "message" ? message : null,
            query_params: {},
            metadata: { connection_id: connection, ws: name, headers },
          },
          { endpoint: name, connection },
        );
        if (kind === "message" && outcome.error === null && outcome.body !== null) {
          // The engine sends a message handler's return value back.
          if (ws.broadcast) {
            outcome.broadcasts.push({ endpoint: name, message: outcome.body });
          } else {
            outcome.sent.push(outcome.body);
          }
        }
        const triggers = kind === "message" ? ws.triggers : [];
        const events = this.publishAfter(outcome, triggers, () => message, [], traceId, id);
        outcome.triggered = events;
        all.push(outcome);
        if (outcome.error !== null) {
          break;
        }
      }
      return new CallResult({
        error: all.find((o) => o.error !== null)?.error ?? null,
        body: all.length > 0 ? all[all.length - 1].body : null,
        events: all.flatMap((o) => o.triggered),
        logs: all.flatMap((o) => o.logs),
        sent: all.flatMap((o) => o.sent),
        broadcasts: all.flatMap((o) => o.broadcasts),
        nonRetryable: all.some((o) => o.nonRetryable),
      });
    };
    return {
      connection,
      connect: () => hook(ws.connect, null, "connect"),
      message: (message: W[N]) => hook(ws.message, wire(message), "message"),
      disconnect: () => hook(ws.disconnect, null, "disconnect"),
    };
  }

  // ---------------------------------------------------------------- internals

  private lookup<T>(kind: string, table: { [name: string]: T }, name: string): T {
    if (!Object.prototype.hasOwnProperty.call(table, name)) {
      throw new Error(`no ${kind.replace(/s$/, "")} \`${String(name)}\` in the schema; ${known(kind, Object.keys(table))}`);
    }
    return table[name];
  }

  private traceId(): string {
    this.traces += 1;
    return this.traces.toString(16).padStart(32, "0");
  }

  private loaded(): Promise<Loaded> {
    if (this.engine === null) {
      this.engine = loadEngine();
    }
    return this.engine;
  }

  private async has(id: string): Promise<boolean> {
    return (await this.loaded()).table.handlers.has(id);
  }

  /** Call handler `id` through the engine's dispatch module. */
  private async invoke(
    id: string,
    traceId: string,
    parts: { request: unknown; payload: unknown; query_params: unknown; metadata: { [key: string]: unknown } },
    ws?: { endpoint: string; connection: string },
  ): Promise<Outcome> {
    const { dispatch, table } = await this.loaded();
    const handler = table.handlers.get(id);
    if (handler === undefined) {
      throw new Error(`handler \`${id}\` is not loaded: its file or function is missing (run \`rohas test\` again after \`rohas codegen\`)`);
    }
    const outcome: Outcome = {
      returned: undefined,
      body: null,
      error: null,
      nonRetryable: false,
      triggered: [],
      payloads: {},
      logs: [],
      sent: [],
      broadcasts: [],
    };
    const host: Host = {
      log: (level, message, fields) => outcome.logs.push({ level, message, fields }),
      broadcast: (endpoint, message) => outcome.broadcasts.push({ endpoint, message }),
      send: (_connection, message) => outcome.sent.push(message),
      now: () => this.clock.millis(),
    };
    const context: HandlerContext = {
      handler_name: handler.name,
      payload: parts.payload,
      query_params: (parts.query_params ?? {}) as { [name: string]: string },
      metadata: { ...parts.metadata, trace_id: traceId, handler_kind: handler.kind },
    };
    const data = {
      h: id,
      tr: traceId,
      request: parts.request,
      context,
      endpoint: ws?.endpoint,
      connection_id: ws?.connection,
    };
    const call: Call = { handler, traceId, state: null };
    let settled: ReturnType<Dispatch["settle"]>;
    try {
      const value = await handler.fn(...dispatch.argumentsFor(table, call, data, () => host));
      outcome.returned = value;
      settled = dispatch.settle(call, value);
    } catch (thrown) {
      settled = { frame: "fail", body: dispatch.failure(thrown, true) };
    }
    if (settled.frame === "fail") {
      const failure = settled.body;
      outcome.error = new HttpError(failure.status ?? 500, failure.message, failure.details ?? undefined);
      outcome.nonRetryable = failure.retryable === false;
      outcome.returned = undefined;
      return outcome;
    }
    if (settled.frame === "value") {
      outcome.body = JSON.parse(settled.text) as unknown;
      return outcome;
    }
    const done = JSON.parse(settled.text) as {
      value: unknown;
      triggered: [string, unknown, number?][];
      payloads: { [event: string]: unknown };
    };
    outcome.body = done.value;
    outcome.triggered = done.triggered.map(([event, payload, delay]) =>
      delay === undefined ? { event, payload } : { event, payload, delay },
    );
    outcome.payloads = done.payloads;
    return outcome;
  }

  /**
   * The events a successful call publishes, queued: each of `triggers`
   * (payload from `setPayload`, else `fallback()`), then every
   * `triggerEvent` call, as the engine orders them. Nothing for a failure.
   */
  private publishAfter(
    outcome: Outcome,
    triggers: string[],
    fallback: () => unknown,
    chain: string[],
    traceId: string,
    source: string,
  ): PublishedEvent[] {
    if (outcome.error !== null) {
      return [];
    }
    const events: PublishedEvent[] = triggers.map((event) => ({
      event,
      payload: Object.prototype.hasOwnProperty.call(outcome.payloads, event) ? outcome.payloads[event] : fallback(),
    }));
    events.push(...outcome.triggered);
    const now = this.clock.millis();
    for (const e of events) {
      this.queue.push({ event: e.event, payload: e.payload, due: now + (e.delay ?? 0), chain, traceId, source });
    }
    return events;
  }

  /** The first queued message due by `now` (earliest due time, then queue order). */
  private nextDue(now: number): number {
    let best = -1;
    for (let i = 0; i < this.queue.length; i++) {
      const due = this.queue[i].due;
      if (due <= now && (best < 0 || due < this.queue[best].due)) {
        best = i;
      }
    }
    return best;
  }

  private async deliver(message: Message, run: EventRun): Promise<void> {
    const chain = [...message.chain, message.event];
    if (chain.length > this.maxDepth) {
      this.queue = [];
      throw new Error(
        `event chain longer than ${this.maxDepth} hops: ${chain.join(" → ")}; ` +
          "a cycle in triggers or triggerEvent calls? (new Harness({ maxDepth }) raises the limit)",
      );
    }
    run.delivered.push({ event: message.event, payload: message.payload });
    const event = this.plan.events[message.event];
    if (event === undefined) {
      // The engine publishes it; nothing subscribes.
      return;
    }
    const timestamp = this.clock.now().toISOString();
    const request: { [key: string]: unknown } =
      message.payload !== null && typeof message.payload === "object" && !Array.isArray(message.payload)
        ? { ...(message.payload as object) }
        : {};
    for (const [key, value] of [
      ["name", message.event],
      ["timestamp", timestamp],
      ["trace_id", message.traceId],
    ] as const) {
      if (!(key in request)) {
        request[key] = value;
      }
    }
    request.payload = message.payload;
    const payloads: { [event: string]: unknown } = {};
    let allOk = true;
    for (const id of event.handlers) {
      if (!(await this.has(id))) {
        continue;
      }
      const outcome = await this.invoke(id, message.traceId, {
        request: wire(request),
        payload: wire(message.payload),
        query_params: {},
        metadata: { message_id: `${message.traceId}-${run.delivered.length}`, attempt: 1, event: message.event, source: message.source },
      });
      const triggered = this.publishAfter(outcome, [], () => null, chain, message.traceId, id);
      Object.assign(payloads, outcome.payloads);
      allOk = allOk && outcome.error === null;
      run.runs.push({
        id,
        handler: (await this.loaded()).table.handlers.get(id)?.name ?? id,
        event: message.event,
        payload: message.payload,
        depth: message.chain.length,
        ok: outcome.error === null,
        error: outcome.error,
        nonRetryable: outcome.nonRetryable,
        logs: outcome.logs,
        triggered,
        broadcasts: outcome.broadcasts,
      });
    }
    if (allOk && event.triggers.length > 0) {
      const joined: Outcome = {
        returned: undefined,
        body: null,
        error: null,
        nonRetryable: false,
        triggered: [],
        payloads,
        logs: [],
        sent: [],
        broadcasts: [],
      };
      this.publishAfter(joined, event.triggers, () => message.payload, chain, message.traceId, `event:${message.event}`);
    }
  }

  private parts(outcome: Outcome, events: PublishedEvent[]): ConstructorParameters<typeof CallResult>[0] {
    return {
      error: outcome.error,
      body: outcome.error === null ? outcome.body : null,
      events,
      logs: outcome.logs,
      sent: outcome.sent,
      broadcasts: outcome.broadcasts,
      nonRetryable: outcome.nonRetryable,
    };
  }
}

/** One WebSocket client of the harness. */
export interface WsSession<T> {
  /** The connection id handlers see. */
  readonly connection: string;
  /** Run the endpoint's connect handlers. */
  connect(): Promise<CallResult>;
  /** Send `message`: the message handlers run; a return value is sent back (or broadcast). */
  message(message: T): Promise<CallResult>;
  /** Run the endpoint's disconnect handlers. */
  disconnect(): Promise<CallResult>;
}
