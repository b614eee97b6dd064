// How a TypeScript handler is called: the handler table a worker loads, the
// arguments each handler's parameters ask for, and what its result or
// failure becomes on the wire. Embedded in the `rohas` binary and written
// beside the worker as `rohas-dispatch.mjs`.
//
// Two callers share it, so a handler behaves the same under both: the
// engine's worker (`host.mjs`, which adds the socket, the frames and the
// per-call console tagging) and the testing harness a project's tests use
// (`src/generated/harness.ts`, which `rohas test` points at this file). It
// therefore touches no socket, no `console` and no process state: it is
// given the module importer and the per-call host.

import util from "node:util";

// ------------------------------------------------------------------ loading

/** Used when `src/generated/state.ts` is missing (codegen never ran). */
export class FallbackState {
  constructor(handlerName, traceId, host, endpoint) {
    this.handlerName = handlerName;
    this.traceId = traceId;
    this.endpoint = endpoint;
    this.host = host;
    this._triggered = [];
    this._payloads = {};
    const line = (level) => (message, fields) => host.log(level, String(message), wire(fields ?? {}));
    this.logger = {
      trace: line("trace"),
      debug: line("debug"),
      info: line("info"),
      warn: line("warn"),
      warning: line("warn"),
      error: line("error"),
      log: (level, message, fields) => line(level === "warning" ? "warn" : level)(message, fields),
    };
  }
  now() {
    return new Date(typeof this.host.now === "function" ? this.host.now() : Date.now());
  }
  triggerEvent(name, payload, options) {
    const delay = options?.delay;
    if (delay === undefined) {
      this._triggered.push({ event: name, payload: wire(payload ?? null) });
      return;
    }
    if (typeof delay !== "number" || !Number.isFinite(delay) || delay < 0) {
      throw new RangeError(
        `the delay of event \`${name}\` must be a finite, non-negative number of milliseconds, not ${String(delay)}`,
      );
    }
    this._triggered.push({ event: name, payload: wire(payload ?? null), delay: Math.ceil(delay) });
  }
  setPayload(event, payload) {
    this._payloads[event] = wire(payload);
  }
  broadcast(message, endpoint) {
    const target = endpoint ?? this.endpoint;
    if (target === undefined) {
      throw new Error(`${this.handlerName} is not a WebSocket handler: name the endpoint, as in state.broadcast(message, "Chat")`);
    }
    this.host.broadcast(target, wire(message));
  }
}

export class FallbackConnection {
  constructor(id, host) {
    this.id = id;
    this.host = host;
  }
  send(message) {
    this.host.send(this.id, wire(message));
  }
}

function wire(value) {
  const text = JSON.stringify(value);
  return text === undefined ? null : JSON.parse(text);
}

/**
 * Import the modules of a handler table (the engine's `load` message, see
 * `src/table.rs`) with `importModule(url)`. `importing(file)` is told each
 * handler file before it is imported. Resolves to `{ table, errors }`;
 * `table` is null when any handler failed to load.
 */
export async function loadTable(message, importModule, importing) {
  const optional = async (url) => {
    if (!url) {
      return null;
    }
    try {
      return await importModule(url);
    } catch {
      return null;
    }
  };
  const errors = [];
  const handlers = new Map();
  const state = await optional(message.state_url);
  const runtime = await optional(message.runtime_url);
  const modules = new Map();
  for (const spec of message.handlers) {
    let module = modules.get(spec.url);
    if (module === undefined) {
      importing(spec.file);
      try {
        module = await importModule(spec.url);
      } catch (error) {
        module = null;
        errors.push(importError(spec, error));
      }
      modules.set(spec.url, module);
    }
    if (module === null) {
      continue;
    }
    const fn = module[spec.export];
    if (typeof fn !== "function") {
      errors.push(`${spec.file}: \`${spec.export}\` is not a function`);
      continue;
    }
    handlers.set(spec.id, { ...spec, fn });
  }
  if (errors.length > 0) {
    return { table: null, errors };
  }
  const table = {
    handlers,
    recursive: message.recursive ?? {},
    dev: Boolean(message.dev),
    State: state?.State ?? FallbackState,
    Connection: runtime?.Connection ?? FallbackConnection,
  };
  return { table, errors };
}

function importError(spec, error) {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : util.inspect(error);
  let hint = "";
  if (error && error.code === "ERR_MODULE_NOT_FOUND") {
    if (/Cannot find package/.test(String(error.message))) {
      hint = "\n    install it with `npm install` in the project";
    } else if (/[\\/]generated[\\/]/.test(String(error.message))) {
      hint = "\n    src/generated/ is missing or stale: run `rohas codegen`";
    }
  }
  const stack = error instanceof Error ? cleanStack(error.stack).split("\n").slice(1).join("\n") : "";
  return `${spec.file}: raised on import: ${text}${hint}${stack ? `\n${stack}` : ""}`;
}

/** The stack without the runtime's and Node's own frames. */
export function cleanStack(stack) {
  if (typeof stack !== "string") {
    return "";
  }
  return stack
    .split("\n")
    .filter(
      (line) =>
        !line.includes("rohas-host.mjs") &&
        !line.includes("rohas-dispatch.mjs") &&
        !line.includes("(node:") &&
        !line.includes("at node:"),
    )
    .join("\n");
}

export function describeThrown(value) {
  if (value instanceof Error) {
    return cleanStack(value.stack) || `${value.name}: ${value.message}`;
  }
  return util.inspect(value);
}

// ------------------------------------------------------------------ arguments

/** Turn RFC 3339 strings into `Date`s where the schema types say `DateTime`. */
function revive(value, plan, recursive) {
  if (plan === undefined || plan === null || value === null || value === undefined) {
    return value;
  }
  if (plan === "d") {
    if (typeof value === "string") {
      const date = new Date(value);
      return Number.isNaN(date.getTime()) ? value : date;
    }
    return value;
  }
  if (plan.r !== undefined) {
    return revive(value, recursive[plan.r], recursive);
  }
  if (plan.a !== undefined) {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        value[i] = revive(value[i], plan.a, recursive);
      }
    }
    return value;
  }
  if (plan.o !== undefined && typeof value === "object" && !Array.isArray(value)) {
    for (const key of Object.keys(plan.o)) {
      if (key in value) {
        value[key] = revive(value[key], plan.o[key], recursive);
      }
    }
  }
  return value;
}

/**
 * The arguments for one call, from its parameters' roles. `call` is
 * `{ handler, traceId, state }` (`state` null until a parameter asks for
 * one, then the `State` built here); `data` is the call frame's body
 * (`request`, `context`, `endpoint`, `connection_id`, see `src/frame.rs`);
 * `hostOf(call)` gives the host that receives what the handler logs and
 * sends while it runs (asked only when a parameter needs it).
 */
export function argumentsFor(table, call, data, hostOf) {
  const handler = call.handler;
  const plans = handler.plans;
  const recursive = table.recursive;
  let request = data.request;
  if (handler.kind === "api") {
    if (request && typeof request === "object") {
      if (plans.body) {
        request.body = revive(request.body, plans.body, recursive);
      }
      if (plans.query && request.query !== undefined) {
        request.query = revive(request.query, plans.query, recursive);
      }
      request.queryParams = request.query_params ?? {};
      delete request.query_params;
    }
  } else if (handler.kind === "event") {
    request = revive(request, plans.event, recursive);
  } else if (handler.kind === "ws_message") {
    request = revive(request, plans.message, recursive);
  }
  const args = [];
  for (const role of handler.roles) {
    switch (role) {
      case "state":
        if (call.state === null) {
          call.state = new table.State(handler.name, call.traceId, hostOf(call), data.endpoint ?? undefined);
        }
        args.push(call.state);
        break;
      case "context":
        args.push(data.context);
        break;
      case "connection":
        args.push(new table.Connection(data.connection_id ?? "", hostOf(call)));
        break;
      case "body":
        args.push(handler.kind === "api" ? request?.body : revive(data.context.payload, plans.body, recursive));
        break;
      default:
        args.push(request);
    }
  }
  return args;
}

export function isThenable(value) {
  return (
    value instanceof Promise ||
    (value !== null && (typeof value === "object" || typeof value === "function") && typeof value.then === "function")
  );
}

// ------------------------------------------------------------------ results

/**
 * What a call that returned `value` answers: `{ frame: "value", text }`
 * (the return value's JSON alone), `{ frame: "done", text }` (value and
 * state effects, the shared `WireSuccess`) or `{ frame: "fail", body }`
 * (a `WireFailure`: no answer where one is due, or a value JSON cannot
 * carry).
 */
export function settle(call, value) {
  const handler = call.handler;
  if (value === undefined) {
    if (handler.answers) {
      return {
        frame: "fail",
        body: {
          message: `handler \`${handler.name}\` (${handler.file}) returned undefined, but api ${handler.name} has a response type: return the response`,
        },
      };
    }
    value = null;
  }
  const state = call.state;
  let text;
  try {
    // Inside the `try`: a throwing getter on the returned object fails this
    // call, not the worker.
    if (handler.kind === "middleware" && value !== null && typeof value === "object") {
      value = {
        payload: value.payload,
        query_params: value.query_params,
        headers: value.metadata?.headers,
      };
    }
    // `undefined` for a function or symbol: "nothing", as when omitted.
    text = JSON.stringify(value) ?? "null";
    if (state !== null) {
      const triggered = JSON.stringify(state._triggered.map(triggeredWire));
      const payloads = JSON.stringify(state._payloads) ?? "{}";
      text = `{"value":${text},"triggered":${triggered},"payloads":${payloads}}`;
    }
  } catch (error) {
    return {
      frame: "fail",
      body: {
        message: `handler \`${handler.name}\` returned a value that is not JSON (${error.message}): return plain objects, arrays, strings, numbers, booleans, null or Dates`,
      },
    };
  }
  return { frame: state !== null ? "done" : "value", text };
}

/** One `triggerEvent` call on the wire: `[event, payload]`, or
 * `[event, payload, delay_ms]` for a delayed one. */
function triggeredWire(t) {
  return typeof t.delay === "number" ? [t.event, t.payload, t.delay] : [t.event, t.payload];
}

/**
 * A `NonRetryableError` from the generated runtime, or a subclass: by name,
 * as `HttpError` is recognised, so a copy loaded from another path counts
 * (the error's own `name` may be a subclass's).
 */
function isNonRetryable(error) {
  for (let proto = error; proto !== null && proto !== undefined; proto = Object.getPrototypeOf(proto)) {
    if (proto.constructor?.name === "NonRetryableError") {
      return true;
    }
  }
  return error?.name === "NonRetryableError";
}

/** The `WireFailure` for what a handler threw (`dev`: with its stack). */
export function failure(error, dev) {
  if (error && error.name === "HttpError" && typeof error.status === "number") {
    let details = null;
    try {
      details = error.details === undefined ? null : wire(error.details);
    } catch {
      details = null;
    }
    return { status: error.status, message: String(error.message ?? ""), details };
  }
  if (error instanceof Error) {
    const body = { message: `${error.name}: ${error.message}`, stack: dev ? cleanStack(error.stack) : null };
    if (isNonRetryable(error)) {
      body.retryable = false;
    }
    return body;
  }
  return { message: `threw a non-Error value: ${util.inspect(error)}` };
}
