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
// come from. How a handler is called (its arguments, what its result or
// failure becomes) is `rohas-dispatch.mjs`, which the testing harness of a
// project shares; this file is the transport around it.

import net from "node:net";
import util from "node:util";
import { AsyncLocalStorage } from "node:async_hooks";
import * as dispatch from "./rohas-dispatch.mjs";

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
    onFrame(kind, id, body);
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
  logLine("error", `unhandled promise rejection: ${dispatch.describeThrown(reason)}`);
});
process.on("uncaughtException", (error) => {
  // Node's state may be unsafe now: report, and let the engine replace this worker.
  logLine("error", `uncaught exception, restarting the worker: ${dispatch.describeThrown(error)}`);
  flush();
  socket.end(() => process.exit(70));
  setTimeout(() => process.exit(70), 200).unref();
});

// ------------------------------------------------------------------ loading

// The handler table the last successful load built (`rohas-dispatch.mjs`).
let table = null;
let loading = Promise.resolve();
// Loads started and not finished; calls wait for them, else start at once.
let loadsRunning = 0;

async function load(id, message) {
  const loaded = await dispatch.loadTable(
    message,
    (url) => import(url),
    // Flushed while the loader reads the file, before the module runs.
    (file) => sendFrame(IMPORTING, id, file),
  );
  if (loaded.table !== null) {
    table = loaded.table;
  }
  sendFrame(LOADED, id, JSON.stringify({ errors: loaded.errors }));
}

// ------------------------------------------------------------------ calls

const calls = new Map();

function onFrame(kind, id, body) {
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
          sendFrame(LOADED, id, JSON.stringify({ errors: [`cannot load handlers: ${dispatch.describeThrown(error)}`] })),
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
  const handler = table?.handlers.get(message.h);
  if (handler === undefined) {
    failWith(id, { message: `handler \`${message.h}\` is not loaded` });
    return;
  }
  const call = { id, handler, traceId: message.tr, cancelled: false, state: null };
  calls.set(id, call);
  scope.run(call, run, call, message);
}

/** Run a call's handler (inside its AsyncLocalStorage scope). */
function run(call, data) {
  let result;
  try {
    result = call.handler.fn(...dispatch.argumentsFor(table, call, data, hostFor));
    // What `await` would do, minus its promises for a handler that answers
    // synchronously: every promise costs an AsyncLocalStorage hook call.
    if (dispatch.isThenable(result)) {
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

function succeed(call, value) {
  if (call.cancelled) {
    return;
  }
  calls.delete(call.id);
  const reply = dispatch.settle(call, value);
  if (reply.frame === "fail") {
    failWith(call.id, reply.body);
    return;
  }
  sendFrame(reply.frame === "done" ? DONE : VALUE, call.id, reply.text);
}

function fail(call, error) {
  if (call.cancelled) {
    return;
  }
  calls.delete(call.id);
  failWith(call.id, dispatch.failure(error, table?.dev ?? false));
}
