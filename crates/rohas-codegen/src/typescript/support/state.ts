/**
 * `State`: what a handler uses to log, trigger events and broadcast.
 *
 * Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.
 *
 * The engine's worker builds one `new State(handlerName, traceId, host,
 * endpoint)` per call (`endpoint` is the WebSocket endpoint of ws handlers;
 * `host` is described in `runtime.ts`). `now()` is the handler's clock, the
 * host's when it has one. Log lines, broadcasts and sends go to
 * `host` at once. Events are only collected, already JSON-ready, in
 * `_triggered` (every `triggerEvent` call, in order, with its `delay` in
 * whole milliseconds when it has one) and `_payloads` (the last `setPayload`
 * per event): the worker reads them after the handler succeeds and the
 * engine publishes them; when the handler fails they are dropped.
 */

import { consoleHost, Logger, toWire } from "./runtime";
import type { Host } from "./runtime";

export { Logger };
export type { Host };

/** One `triggerEvent` call, as the worker reads it. */
export interface TriggeredEvent {
  event: string;
  payload: unknown;
  /** Whole milliseconds to hold the event back; absent: deliver at once. */
  delay?: number;
}

/** Options of `triggerEvent`. */
export interface TriggerOptions {
  /**
   * Milliseconds to hold the event back (as BullMQ's `delay`): it is
   * delivered no earlier than this long after the handler succeeded.
   * A fraction is rounded up.
   */
  delay?: number;
}

/** The handler's view of the engine: logging, events, WebSocket broadcast. */
export class State {
  /** The api, event handler, cron, ws or middleware being run. */
  readonly handlerName: string;
  /** The trace this call belongs to. */
  readonly traceId: string;
  /** The WebSocket endpoint a ws handler serves (default target of `broadcast`). */
  readonly endpoint: string | undefined;
  /** Structured logging: `state.logger.info("message", { field: value })`. */
  readonly logger: Logger;
  /** For the runtime: events from `triggerEvent`, in call order. */
  readonly _triggered: TriggeredEvent[] = [];
  /** For the runtime: payloads from `setPayload`, by event name. */
  readonly _payloads: { [event: string]: unknown } = {};
  private readonly host: Host;

  constructor(handlerName: string, traceId = "", host: Host = consoleHost, endpoint?: string) {
    this.handlerName = handlerName;
    this.traceId = traceId;
    this.host = host;
    this.endpoint = endpoint;
    this.logger = new Logger(host);
  }

  /**
   * The current time. Read it here rather than with `new Date()` where a
   * test should control it: it is the system clock under the engine and the
   * fake clock under the testing harness (`src/generated/testing.ts`).
   */
  now(): Date {
    return new Date(this.host.now ? this.host.now() : Date.now());
  }

  /**
   * Publish event `name` with `payload` once this handler succeeds;
   * `{ delay: 60_000 }` delivers it no earlier than a minute later.
   * Throws a `RangeError` naming the event for a negative or non-finite delay.
   */
  triggerEvent(name: string, payload?: unknown, options?: TriggerOptions): void {
    const delay = options?.delay;
    if (delay === undefined) {
      this._triggered.push({ event: name, payload: toWire(payload ?? null) });
      return;
    }
    if (typeof delay !== "number" || !Number.isFinite(delay) || delay < 0) {
      throw new RangeError(
        `the delay of event \`${name}\` must be a finite, non-negative number of milliseconds, not ${String(delay)}`,
      );
    }
    // Rounded up: the event may come late, never early.
    this._triggered.push({ event: name, payload: toWire(payload ?? null), delay: Math.ceil(delay) });
  }

  /**
   * Set the payload of `event`, one of this handler's `triggers`. Without it,
   * a triggered event's payload is the handler's return value.
   */
  setPayload(event: string, payload: unknown): void {
    this._payloads[event] = toWire(payload);
  }

  /**
   * Send `message` to every client of WebSocket `endpoint` (by default the
   * endpoint this ws handler serves).
   */
  broadcast(message: unknown, endpoint?: string): void {
    const target = endpoint ?? this.endpoint;
    if (target === undefined) {
      throw new Error(
        `${this.handlerName} is not a WebSocket handler: name the endpoint, as in state.broadcast(message, "Chat")`,
      );
    }
    this.host.broadcast(target, toWire(message));
  }
}
