// The BullMQ worker of bench/events/run.py: every job does what Rohas's
// on_tick handler does (rohas-python/src/tick_counter.py): take the time,
// count, keep the publish-to-handled latency, and write the run's marker
// file into $BENCH_EVENTS_MARKERS once `expected` jobs of the run were seen.
//
//     node bullmq_worker.mjs CONCURRENCY

import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'bullmq';
import { QUEUE, connection, nowNs } from './bullmq_common.mjs';

const concurrency = Number(process.argv[2] || 50);
const markers = process.env.BENCH_EVENTS_MARKERS || '.';

let run = null;
let count = 0;
let firstPublish = 0;
let latencies = [];

function percentile(ordered, q) {
  const rank = Math.max(1, Math.ceil(ordered.length * q));
  return ordered[rank - 1];
}

function writeMarker(runId, n, first, lastHandled, values) {
  const ordered = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of ordered) sum += v;
  const marker = {
    run: runId,
    count: n,
    first_publish_ns: first,
    last_handled_ns: lastHandled,
    p50_ns: percentile(ordered, 0.5),
    p99_ns: percentile(ordered, 0.99),
    max_ns: ordered[ordered.length - 1],
    mean_ns: Math.round(sum / ordered.length),
    pid: process.pid,
  };
  const tmp = path.join(markers, `.${runId}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(marker));
  fs.renameSync(tmp, path.join(markers, `${runId}.json`));
}

function handled(runId, expected, t) {
  const now = nowNs();
  if (runId !== run) {
    run = runId;
    count = 0;
    firstPublish = t;
    latencies = [];
  }
  count += 1;
  if (t < firstPublish) firstPublish = t;
  latencies.push(now - t);
  if (count === expected) writeMarker(runId, count, firstPublish, now, latencies);
}

const client = connection();
const worker = new Worker(
  QUEUE,
  async (job) => {
    const { run: runId, expected, t } = job.data;
    handled(runId, expected, t);
  },
  { connection: client, concurrency },
);
worker.on('error', (e) => console.error('worker error:', e));
worker.on('ready', () => console.log('ready'));

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, async () => {
    await worker.close(true).catch(() => {});
    process.exit(0);
  });
}
