// The Node.js half of Rohas's TypeScript runtime (the Rust half is
// `src/pool.rs`). Embedded in the `rohas` binary and run by every worker
// process as `node rohas-host.mjs`.
//
// The engine talks to this process over fd 3 (a Unix socket) in frames
// (`src/frame.rs` has the layout): a 13-byte header — length of the rest
// (u32 LE), kind (u8), call id (u64 LE) — then a body, JSON for most kinds.
// A call's result goes back as the return value's JSON alone (VALUE) unless
// the handler left state effects (DONE), so the engine can send that text as
// the HTTP body without parsing it. Many calls are in flight at once; replies
// and state calls (logs, broadcasts, sends) are queued and written together,
// in one buffer and one write, once per turn of the event loop. Handler
// modules are the ES modules the engine compiled into `.rohas/build/`,
// loaded with `import()`. Each call runs inside an AsyncLocalStorage scope so
// `console.log` lines are tagged with the handler and trace id wherever they
// come from.

import net from "node:net";
import util from "node:util";
import { AsyncLocalStorage } from "node:async_hooks";

const scope = new AsyncLocalStorage();
// `onread`: every read lands in one buffer allocated once and comes straight
// to `received`, without a Buffer per read and the stream machinery behind
// "data" events (measured: about a microsecond per call at 16 calls a read).
const socket = new net.Socket({
  fd: 3,
  readable: true,
  writable: true,
  onread: {
    buffer: Buffer.allocUnsafe(256 * 1024),
    callback: (length, buffer) => {
      received(buffer.subarray(0, length));
    },
  },
});

// ------------------------------------------------------------------ frames

const HEADER = 13;
const TWO_32 = 4294967296;
// Engine → worker.
const CALL = 1;
const LOAD = 2;
const CANCEL = 3;
// Worker → engine.
const VALUE = 10;
const DONE = 11;
const FAIL = 12;
const LOADED = 13;
const ACK = 14;
const LOG = 15;
const BROADCAST = 16;
const SEND = 17;
const IMPORTING = 18;

// Frames waiting for the end of this event-loop turn, as parallel arrays
// (no object per frame); `flush` writes them all with one allocation.
let queuedKinds = [];
let queuedIds = [];
let queuedTexts = [];
let queuedBound = 0;
let flushing = false;

function flush() {
  flushing = false;
  const count = queuedTexts.length;
  if (count === 0) {
    return;
  }
  const kinds = queuedKinds;
  const ids = queuedIds;
  const texts = queuedTexts;
  const out = Buffer.allocUnsafe(queuedBound);
  queuedKinds = [];
  queuedIds = [];
  queuedTexts = [];
  queuedBound = 0;
  let at = 0;
  for (let i = 0; i < count; i++) {
    const id = ids[i];
    const written = out.write(texts[i], at + HEADER);
    out.writeUInt32LE(HEADER - 4 + written, at);
    out[at + 4] = kinds[i];
    out.writeUInt32LE(id >>> 0, at + 5);
    out.writeUInt32LE(Math.floor(id / TWO_32), at + 9);
    at += HEADER + written;
  }
  socket.write(at === out.length ? out : out.subarray(0, at));
}

/** Queue a frame; `text` is its body (JSON, or "" for none). */
function sendFrame(kind, id, text) {
  queuedKinds.push(kind);
  queuedIds.push(id);
  queuedTexts.push(text);
  // UTF-8 takes at most 3 bytes per UTF-16 unit: room enough, no measuring
  // (measured for long texts, so three times a huge reply is not asked for).
  queuedBound += HEADER + (text.length > 1 << 20 ? Buffer.byteLength(text) : 3 * text.length);
  if (!flushing) {
    flushing = true;
    setImmediate(flush);
  }
}

// The start of a frame not yet whole, in chunks, and the bytes it needs:
// a large frame arriving in many chunks is joined once, when complete.
let partial = [];
let partialLength = 0;
let partialNeeds = 0;

/** Dispatch every whole frame in `chunk`; keep a copy of what is left. */
function received(chunk) {
  let buffer = chunk;
  if (partial.length > 0) {
    partialLength += chunk.length;
    if (partialLength < partialNeeds) {
      // Copied: the read buffer is reused by the next read.
      partial.push(Buffer.from(chunk));
      return;
    }
    partial.push(chunk);
    buffer = Buffer.concat(partial, partialLength);
    partial = [];
  }
  let at = 0;
  while (buffer.length - at >= HEADER) {
    const end = at + 4 + buffer.readUInt32LE(at);
    if (end > buffer.length) {
      break;
    }
    const kind = buffer[at + 4];
    const id = buffer.readUInt32LE(at + 5) + buffer.readUInt32LE(at + 9) * TWO_32;
    const body = end > at + HEADER ? buffer.toString("utf8", at + HEADER, end) : "";
    at = end;
    dispatch(kind, id, body);
  }
  if (at < buffer.length) {
    // Copied: the read buffer is reused by the next read.
    const rest = Buffer.from(buffer.subarray(at));
    partial = [rest];
    partialLength = rest.length;
    partialNeeds = rest.length >= HEADER ? 4 + rest.readUInt32LE(0) : HEADER;
  }
}
// The engine closed its end: finish.
socket.on("end", () => process.exit(0));
socket.on("error", () => process.exit(0));

// ------------------------------------------------------------------ logging

function sendLog(handler, traceId, level, message, fields) {
  sendFrame(LOG, 0, JSON.stringify({ h: handler, tr: traceId, l: level, m: message, f: fields ?? {} }));
}

function logLine(level, message, fields) {
  const call = scope.getStore();
  sendLog(call ? call.handler.name : "", call ? call.traceId : "", level, message, fields);
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
// Loads started and not finished; calls wait for them, else start at once.
let loadsRunning = 0;

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

async function load(id, message) {
  const errors = [];
  const next = new Map();
  const state = await importOptional(message.state_url);
  const runtime = await importOptional(message.runtime_url);
  const modules = new Map();
  for (const spec of message.handlers) {
    let module = modules.get(spec.url);
    if (module === undefined) {
      // Flushed while the loader reads the file, before the module runs.
      sendFrame(IMPORTING, id, spec.file);
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
  sendFrame(LOADED, id, JSON.stringify({ errors }));
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

function dispatch(kind, id, body) {
  switch (kind) {
    case CALL: {
      const message = JSON.parse(body);
      if (loadsRunning === 0) {
        start(id, message);
      } else {
        loading.then(() => start(id, message));
      }
      break;
    }
    case LOAD: {
      const message = JSON.parse(body);
      loadsRunning++;
      loading = loading
        .then(() => load(id, message))
        .catch((error) =>
          sendFrame(LOADED, id, JSON.stringify({ errors: [`cannot load handlers: ${describeThrown(error)}`] })),
        )
        .finally(() => loadsRunning--);
      break;
    }
    case CANCEL: {
      const call = calls.get(id);
      if (call) {
        call.cancelled = true;
        calls.delete(id);
      }
      sendFrame(ACK, id, "");
      break;
    }
    default:
      break;
  }
}

function hostFor(call) {
  return {
    log(level, message, fields) {
      sendLog(call.handler.name, call.traceId, level, String(message), fields);
    },
    broadcast(endpoint, message) {
      sendFrame(BROADCAST, 0, JSON.stringify({ e: endpoint, m: message }));
    },
    send(connectionId, message) {
      sendFrame(SEND, 0, JSON.stringify({ c: connectionId, m: message }));
    },
  };
}

function failWith(id, body) {
  sendFrame(FAIL, id, JSON.stringify(body));
}

function start(id, message) {
  const handler = handlers.get(message.h);
  if (handler === undefined) {
    failWith(id, { message: `handler \`${message.h}\` is not loaded` });
    return;
  }
  const call = { id, handler, traceId: message.tr, cancelled: false, state: null };
  calls.set(id, call);
  scope.run(call, run, call, message);
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

/** Run a call's handler (inside its AsyncLocalStorage scope). */
function run(call, data) {
  let result;
  try {
    result = call.handler.fn(...argumentsFor(call, data));
    // What `await` would do, minus its promises for a handler that answers
    // synchronously: every promise costs an AsyncLocalStorage hook call.
    if (isThenable(result)) {
      Promise.resolve(result).then(
        (value) => succeed(call, value),
        (error) => fail(call, error),
      );
      return;
    }
  } catch (error) {
    fail(call, error);
    return;
  }
  succeed(call, result);
}

function isThenable(value) {
  return (
    value instanceof Promise ||
    (value !== null && (typeof value === "object" || typeof value === "function") && typeof value.then === "function")
  );
}

function succeed(call, value) {
  if (call.cancelled) {
    return;
  }
  calls.delete(call.id);
  const handler = call.handler;
  if (value === undefined) {
    if (handler.answers) {
      failWith(call.id, {
        message: `handler \`${handler.name}\` (${handler.file}) returned undefined, but api ${handler.name} has a response type: return the response`,
      });
      return;
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
    failWith(call.id, {
      message: `handler \`${handler.name}\` returned a value that is not JSON (${error.message}): return plain objects, arrays, strings, numbers, booleans, null or Dates`,
    });
    return;
  }
  sendFrame(state !== null ? DONE : VALUE, call.id, text);
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
    if (isNonRetryable(error)) {
      body.retryable = false;
    }
  } else {
    body = { message: `threw a non-Error value: ${util.inspect(error)}` };
  }
  failWith(call.id, body);
}
