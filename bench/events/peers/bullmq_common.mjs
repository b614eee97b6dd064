// Shared by the BullMQ worker and producer: the Redis connection, the queue
// name and the wall clock in ns since the epoch (timeOrigin has µs
// precision; a double holds these values to ~0.25 µs).
//
// BullMQ 6.7 takes its Redis client as an optional peer: ioredis, the one it
// was built on, passed as a client (from an ES module it cannot load it
// itself).

import IORedis from 'ioredis';

export const QUEUE = 'bench-events';

export function connection() {
  return new IORedis({
    host: '127.0.0.1',
    port: Number(process.env.BENCH_EVENTS_REDIS_PORT || 6379),
    db: Number(process.env.BENCH_EVENTS_REDIS_DB || 13),
    maxRetriesPerRequest: null,
  });
}

export function nowNs() {
  return Math.round((performance.timeOrigin + performance.now()) * 1e6);
}
