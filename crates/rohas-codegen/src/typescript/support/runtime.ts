/**
 * What every TypeScript handler can use: `HandlerContext`, `HttpError`,
 * `NonRetryableError`, `Connection`, `Logger`, and `toWire`.
 *
 * Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.
 *
 * The contract with the engine's TypeScript runtime
 * --------------------------------------------------
 * The engine compiles handlers to ES modules and runs them in Node.js worker
 * processes. A worker imports this module and `state.ts` as it imports the
 * handlers, builds the objects below itself, and passes each handler only the
 * parameters its type annotations ask for (no annotations: `(request, state)`).
 *
 * - The generated schema types are interfaces and unions only: values are
 *   plain JSON objects with the schema's field names. The one conversion is
 *   `DateTime`: every value the schema types as `DateTime`, and an event's
 *   `timestamp`, reaches the handler as a `Date` (the worker turns the RFC 3339
 *   strings into `Date`s, following the schema type); on the way out
 *   `JSON.stringify` writes `Date`s as RFC 3339 text.
 * - An api request is the engine's request object `{<path params>,
 *   query_params, body, headers}` with `query_params` renamed `queryParams`;
 *   an event is the bus message `{<payload fields>, payload, name, timestamp,
 *   trace_id}`; a context is `{handler_name, payload, query_params, metadata}`.
 *   A context a middleware returns goes back to the engine as `{payload,
 *   query_params, headers: metadata.headers}`.
 * - `host` is any object with `log(level, message, fields)`,
 *   `broadcast(endpoint, message)` and `send(connectionId, message)`, and
 *   optionally `now()` (`Host` below); what it receives is JSON-ready
 *   (`toWire`).
 * - `new State(handlerName, traceId, host, endpoint)` per call (state.ts);
 *   `new Connection(id, host)` for a WebSocket client.
 * - A handler fails by throwing. An `HttpError` answers its `status` with its
 *   `message` and `details`; the worker recognises one by `name === "HttpError"`
 *   and a numeric `status` (so a copy of this class loaded from another path
 *   still counts). Anything else answers 500. An event handler's failed
 *   delivery is retried, unless it threw a `NonRetryableError` (recognised
 *   by that name on the error or a class in its prototype chain, so
 *   subclasses count): that message goes to the dead letters at once.
 *
 * - Imports are extensionless and relative (`"./runtime"`,
 *   `"../../generated/api/Health"`, as `tsc` resolves them with
 *   `moduleResolution: "Bundler"`): the compiler that writes `.rohas/build/`
 *   must resolve them for Node (add `.js`, or a resolve hook). Handlers import
 *   schema types without `import type` (`import { HealthResponse } from …`),
 *   and the generated schema modules export no values: imports used only as
 *   types must be removed, as `tsc` removes them.
 *
 * This file and `state.ts` use only TypeScript syntax that type stripping
 * removes (no enums, namespaces or parameter properties).
 */

/** A log level; `warning` is accepted by `Logger` as `warn`. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

/** JSON-ready structured fields of a log line. */
export type LogFields = { [name: string]: unknown };

/** What the engine provides while a handler runs. */
export interface Host {
  /** One structured log line. */
  log(level: LogLevel, message: string, fields: LogFields): void;
  /** Send `message` to every client of WebSocket endpoint `endpoint`. */
  broadcast(endpoint: string, message: unknown): void;
  /** Send `message` to one WebSocket connection. */
  send(connectionId: string, message: unknown): void;
  /**
   * The current time in milliseconds since the epoch, as `state.now()`
   * reports it. The engine's host has none (the system clock is used); the
   * testing harness's host answers with its fake clock.
   */
  now?(): number;
}

/** A host for handlers run outside the engine (unit tests): writes to stderr. */
export const consoleHost: Host = {
  log(level, message, fields) {
    const extra = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : "";
    console.error(`[${level}] ${message}${extra}`);
  },
  broadcast(endpoint, message) {
    console.error(`[broadcast] ${endpoint}: ${JSON.stringify(message)}`);
  },
  send(connectionId, message) {
    console.error(`[send] ${connectionId}: ${JSON.stringify(message)}`);
  },
};

/**
 * Throw it to answer with an HTTP status: `throw new HttpError(404, "no such user")`.
 * `details` (any JSON value) is sent to the client beside the message.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly details: unknown;

  constructor(status: number, message = "", details?: unknown) {
    super(message || `HTTP ${status}`);
    this.name = "HttpError";
    this.status = status;
    this.message = message;
    this.details = details;
  }
}

/**
 * Throw it when retrying cannot help (a malformed order, a declined card):
 * `throw new NonRetryableError("order 7 has no lines")`. An event delivery
 * that throws it is not retried: the message goes to the dead letters after
 * this attempt. Anywhere else it answers 500 like any other error. Extend it
 * to name your own permanent failures.
 */
export class NonRetryableError extends Error {
  constructor(message = "") {
    super(message);
    this.name = "NonRetryableError";
  }
}

/** Path parameters, headers, trace id, handler kind, attempt number, connection id … */
export interface HandlerMetadata {
  /** The trace this call belongs to. */
  trace_id?: string;
  /** `api`, `event`, `cron`, `ws_connect`, `ws_message`, `ws_disconnect` or `middleware`. */
  handler_kind?: string;
  /** Delivery attempt, from 1 (events are retried). */
  attempt?: number;
  /** Request headers, lower-case names. */
  headers?: { [name: string]: string };
  /** Path parameters of an api route. */
  path_params?: { [name: string]: string };
  /** The WebSocket connection, for ws handlers. */
  connection_id?: string;
  [key: string]: unknown;
}

/**
 * Everything the engine knows about one call, for handlers that ask for it.
 * A middleware may return a changed copy (`{ ...context, payload }`) to
 * continue with it.
 */
export interface HandlerContext {
  /** The api, event handler, cron, ws or middleware name. */
  handler_name: string;
  /** The request body or event payload, as JSON. */
  payload: unknown;
  /** URL query parameters (api and ws handlers). */
  query_params: { [name: string]: string };
  /** Path parameters, headers, trace id, handler kind, attempt, connection id … */
  metadata: HandlerMetadata;
}

/** A request header of `context`, by case-insensitive name. */
export function header(context: HandlerContext, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(context.metadata.headers ?? {})) {
    if (key.toLowerCase() === wanted) {
      return value;
    }
  }
  return undefined;
}

/**
 * `value` as JSON-ready data, as it will travel: `Date`s become RFC 3339
 * text, `Map`s objects, `Set`s arrays, `undefined` properties disappear.
 * Throws a `TypeError` naming the problem for values JSON cannot carry
 * (`bigint`, cycles).
 */
export function toWire(value: unknown): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_key, item: unknown) => {
      if (item instanceof Map) {
        return Object.fromEntries(item);
      }
      if (item instanceof Set) {
        return [...item];
      }
      return item;
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TypeError(
      `cannot send this value as JSON (${reason}): return plain objects, arrays, strings, numbers, booleans, null or Dates`,
    );
  }
  return text === undefined ? null : (JSON.parse(text) as unknown);
}

/**
 * Structured log lines tagged by the engine with the handler, trace id and
 * level: `state.logger.info("user created", { userId: user.id })`.
 */
export class Logger {
  private readonly host: Host;

  constructor(host: Host) {
    this.host = host;
  }

  /** A line at `level`. */
  log(level: LogLevel | "warning", message: string, fields?: LogFields): void {
    const wire = toWire(fields ?? {});
    const object = typeof wire === "object" && wire !== null && !Array.isArray(wire) ? (wire as LogFields) : { fields: wire };
    this.host.log(level === "warning" ? "warn" : level, String(message), object);
  }

  trace(message: string, fields?: LogFields): void {
    this.log("trace", message, fields);
  }

  debug(message: string, fields?: LogFields): void {
    this.log("debug", message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.log("info", message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.log("warn", message, fields);
  }

  /** Same as `warn`. */
  warning(message: string, fields?: LogFields): void {
    this.log("warn", message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.log("error", message, fields);
  }
}

/** One WebSocket client: its id, and `send` to reply to it alone. */
export class Connection {
  readonly id: string;
  private readonly host: Host;

  constructor(id: string, host: Host = consoleHost) {
    this.id = id;
    this.host = host;
  }

  /** Send `message` (any JSON-ready value, `Date`s included) to this client. */
  send(message: unknown): void {
    this.host.send(this.id, toWire(message));
  }
}
