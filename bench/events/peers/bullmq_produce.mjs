// The BullMQ producer of bench/events/run.py: `count` jobs of run `run`
// (each stamped with its publish time), with Queue.addBulk in chunks of
// `chunk`; with a `rate` (events/s), one chunk per chunk/rate seconds, else
// as fast as it goes. Prints one JSON line: published, seconds.
//
//     node bullmq_produce.mjs RUN COUNT EXPECTED CHUNK [RATE]

import { Queue } from 'bullmq';
import { QUEUE, connection, nowNs } from './bullmq_common.mjs';

const [run, countArg, expectedArg, chunkArg, rateArg] = process.argv.slice(2);
const count = Number(countArg);
const expected = Number(expectedArg);
const chunk = Number(chunkArg);
const rate = Number(rateArg || 0);

// Completed jobs are dropped, as a user sending fire-and-forget events would
// (and Redis does not fill up over a run).
const client = connection();
const queue = new Queue(QUEUE, {
  connection: client,
  defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
});
await queue.waitUntilReady();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const start = performance.now();
let published = 0;
let tick = 0;
while (published < count) {
  if (rate > 0) {
    const due = start + (tick * chunk * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    tick += 1;
  }
  const n = Math.min(chunk, count - published);
  const jobs = new Array(n);
  for (let i = 0; i < n; i++) {
    jobs[i] = { name: 'tick', data: { run, expected, t: nowNs() } };
  }
  await queue.addBulk(jobs);
  published += n;
}
const seconds = (performance.now() - start) / 1000;
console.log(JSON.stringify({ published, seconds }));
await queue.close();
// A client passed in is the caller's to close.
await client.quit();
