// The Node.js half of Rohas's TypeScript runtime (the Rust half is
// `src/pool.rs`). Embedded in the `rohas` binary and run by every worker
// process as `node rohas-host.mjs`.
//
// The engine talks to this process over fd 3 (a Unix socket): frames of a
// 4-byte little-endian length and JSON. Many calls are in flight at once;
// replies and state calls (logs, broadcasts, sends) are queued and written
// together once per turn of the event loop. Handler modules are the ES
// modules the engine compiled into `.rohas/build/`, loaded with `import()`.
// Each call runs inside an AsyncLocalStorage scope so `console.log` lines are
// tagged with the handler and trace id wherever they come from.

import net from "node:net";
import util from "node:util";
import { AsyncLocalStorage } from "node:async_hooks";

const scope = new AsyncLocalStorage();
const socket = new net.Socket({ fd: 3, readable: true, writable: true });

// ------------------------------------------------------------------ frames

let queued = [];
let flushing = false;

function flush() {
  flushing = false;
  const chunks = queued;
  queued = [];
  socket.write(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
}

function sendText(text) {
  const length = Buffer.byteLength(text);
  const frame = Buffer.allocUnsafe(4 + length);
  frame.writeUInt32LE(length, 0);
  frame.write(text, 4);
  queued.push(frame);
  if (!flushing) {
    flushing = true;
    setImmediate(flush);
  }
}

function send(message) {
  sendText(JSON.stringify(message));
}

let pending = Buffer.alloc(0);
socket.on("data", (chunk) => {
  pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
  let offset = 0;
  while (pending.length - offset >= 4) {
    const length = pending.readUInt32LE(offset);
    if (pending.length - offset - 4 < length) {
      break;
    }
    const text = pending.toString("utf8", offset + 4, offset + 4 + length);
    offset += 4 + length;
    dispatch(JSON.parse(text));
  }
  pending = offset === pending.length ? Buffer.alloc(0) : pending.subarray(offset);
});
// The engine closed its end: finish.
socket.on("end", () => process.exit(0));
socket.on("error", () => process.exit(0));

// ------------------------------------------------------------------ logging

function logLine(level, message, fields) {
  const call = scope.getStore();
  send({ t: "log", h: call ? call.handler.name : "", tr: call ? call.traceId : "", l: level, m: message, f: fields ?? {} });
}

for (const [name, level] of [
  ["log", "info"],
  ["info", "info"],
  ["debug", "debug"],
  ["trace", "trace"],
  ["warn", "warn"],
  ["error", "error"],
]) {
  console[name] = (...args) => logLine(level, util.format(...args));
}

// A rejection nobody handles fails the call it came from when that call still
// runs (AsyncLocalStorage tells which); the worker itself is fine and keeps serving.
process.on("unhandledRejection", (reason) => {
  const call = scope.getStore();
  if (call && calls.has(call.id)) {
    const error = reason instanceof Error ? reason : new Error(util.inspect(reason));
    error.message = `unhandled promise rejection: ${error.message}`;
    fail(call, error);
    call.cancelled = true;
    return;
  }
  logLine("error", `unhandled promise rejection: ${describeThrown(reason)}`);
});
process.on("uncaughtException", (error) => {
  // Node's state may be unsafe now: report, and let the engine replace this worker.
  logLine("error", `uncaught exception, restarting the worker: ${describeThrown(error)}`);
  flush();
  socket.end(() => process.exit(70));
  setTimeout(() => process.exit(70), 200).unref();
});

function describeThrown(value) {
  if (value instanceof Error) {
    return cleanStack(value.stack) || `${value.name}: ${value.message}`;
  }
  return util.inspect(value);
}

/** The stack without this module's and Node's own frames. */
function cleanStack(stack) {
  if (typeof stack !== "string") {
    return "";
  }
  return stack
    .split("\n")
    .filter((line) => !line.includes("rohas-host.mjs") && !line.includes("(node:") && !line.includes("at node:"))
    .join("\n");
}

// ------------------------------------------------------------------ loading

let handlers = new Map();
let recursive = {};
let dev = false;
let StateClass = null;
let ConnectionClass = null;
let loading = Promise.resolve();

/** Used when `src/generated/state.ts` is missing (codegen never ran). */
class FallbackState {
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
  triggerEvent(name, payload) {
    this._triggered.push({ event: name, payload: wire(payload ?? null) });
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

class FallbackConnection {
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

async function importOptional(url) {
  if (!url) {
    return null;
  }
  try {
    return await import(url);
  } catch {
    return null;
  }
}

async function load(message) {
  const errors = [];
  const next = new Map();
  const state = await importOptional(message.state_url);
  const runtime = await importOptional(message.runtime_url);
  const modules = new Map();
  for (const spec of message.handlers) {
    let module = modules.get(spec.url);
    if (module === undefined) {
      try {
        module = await import(spec.url);
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
    next.set(spec.id, { ...spec, fn });
  }
  if (errors.length === 0) {
    handlers = next;
    recursive = message.recursive ?? {};
    dev = Boolean(message.dev);
    StateClass = state?.State ?? FallbackState;
    ConnectionClass = runtime?.Connection ?? FallbackConnection;
  }
  send({ t: "loaded", id: message.id, errors });
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

// ------------------------------------------------------------------ calls

const calls = new Map();

function dispatch(message) {
  switch (message.t) {
    case "call":
      loading.then(() => start(message));
      break;
    case "load":
      loading = loading
        .then(() => load(message))
        .catch((error) => send({ t: "loaded", id: message.id, errors: [`cannot load handlers: ${describeThrown(error)}`] }));
      break;
    case "cancel": {
      const call = calls.get(message.id);
      if (call) {
        call.cancelled = true;
        calls.delete(message.id);
      }
      send({ t: "ack", id: message.id });
      break;
    }
    case "ping":
      send({ t: "pong", id: message.id });
      break;
    default:
      break;
  }
}

function hostFor(call) {
  return {
    log(level, message, fields) {
      send({ t: "log", h: call.handler.name, tr: call.traceId, l: level, m: String(message), f: fields ?? {} });
    },
    broadcast(endpoint, message) {
      send({ t: "broadcast", e: endpoint, m: message });
    },
    send(connectionId, message) {
      send({ t: "send", c: connectionId, m: message });
    },
  };
}

function start(message) {
  const handler = handlers.get(message.h);
  if (handler === undefined) {
    send({ t: "fail", id: message.id, e: { message: `handler \`${message.h}\` is not loaded` } });
    return;
  }
  const call = { id: message.id, handler, traceId: message.tr, cancelled: false, state: null };
  calls.set(call.id, call);
  scope.run(call, () => invoke(call, message.d));
}

/** Turn RFC 3339 strings into `Date`s where the schema types say `DateTime`. */
function revive(value, plan) {
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
    return revive(value, recursive[plan.r]);
  }
  if (plan.a !== undefined) {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        value[i] = revive(value[i], plan.a);
      }
    }
    return value;
  }
  if (plan.o !== undefined && typeof value === "object" && !Array.isArray(value)) {
    for (const key of Object.keys(plan.o)) {
      if (key in value) {
        value[key] = revive(value[key], plan.o[key]);
      }
    }
  }
  return value;
}

function argumentsFor(call, data) {
  const handler = call.handler;
  const plans = handler.plans;
  let request = data.request;
  if (handler.kind === "api") {
    if (request && typeof request === "object") {
      if (plans.body) {
        request.body = revive(request.body, plans.body);
      }
      request.queryParams = request.query_params ?? {};
      delete request.query_params;
    }
  } else if (handler.kind === "event") {
    request = revive(request, plans.event);
  } else if (handler.kind === "ws_message") {
    request = revive(request, plans.message);
  }
  const args = [];
  for (const role of handler.roles) {
    switch (role) {
      case "state":
        if (call.state === null) {
          call.state = new StateClass(handler.name, call.traceId, hostFor(call), data.endpoint ?? undefined);
        }
        args.push(call.state);
        break;
      case "context":
        args.push(data.context);
        break;
      case "connection":
        args.push(new ConnectionClass(data.connection_id ?? "", hostFor(call)));
        break;
      case "body":
        args.push(handler.kind === "api" ? request?.body : revive(data.context.payload, plans.body));
        break;
      default:
        args.push(request);
    }
  }
  return args;
}

async function invoke(call, data) {
  let value;
  try {
    value = await call.handler.fn(...argumentsFor(call, data));
  } catch (error) {
    fail(call, error);
    return;
  }
  if (call.cancelled) {
    return;
  }
  calls.delete(call.id);
  const handler = call.handler;
  if (value === undefined) {
    if (handler.answers) {
      send({
        t: "fail",
        id: call.id,
        e: {
          message: `handler \`${handler.name}\` (${handler.file}) returned undefined, but api ${handler.name} has a response type: return the response`,
        },
      });
      return;
    }
    value = null;
  }
  if (handler.kind === "middleware" && value !== null && typeof value === "object") {
    value = {
      payload: value.payload,
      query_params: value.query_params,
      headers: value.metadata?.headers,
    };
  }
  const state = call.state;
  let text;
  try {
    text = JSON.stringify({
      t: "done",
      id: call.id,
      v: {
        value,
        triggered: state ? state._triggered.map((t) => [t.event, t.payload]) : [],
        payloads: state ? state._payloads : {},
      },
    });
  } catch (error) {
    send({
      t: "fail",
      id: call.id,
      e: {
        message: `handler \`${handler.name}\` returned a value that is not JSON (${error.message}): return plain objects, arrays, strings, numbers, booleans, null or Dates`,
      },
    });
    return;
  }
  sendText(text);
}

function fail(call, error) {
  if (call.cancelled) {
    return;
  }
  calls.delete(call.id);
  let body;
  if (error && error.name === "HttpError" && typeof error.status === "number") {
    let details = null;
    try {
      details = error.details === undefined ? null : wire(error.details);
    } catch {
      details = null;
    }
    body = { status: error.status, message: String(error.message ?? ""), details };
  } else if (error instanceof Error) {
    body = { message: `${error.name}: ${error.message}`, stack: dev ? cleanStack(error.stack) : null };
  } else {
    body = { message: `threw a non-Error value: ${util.inspect(error)}` };
  }
  send({ t: "fail", id: call.id, e: body });
}

send({ t: "ready" });
