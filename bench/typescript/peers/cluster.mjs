// A peer on every core: node:cluster forks N copies of a peer script, which
// all listen on one port (the primary hands out connections round-robin).
// run.py's all-cores runs start Fastify and node:http this way.
//
//     node cluster.mjs N SCRIPT PORT
//
// The workers inherit the primary's session, so run.py counts their CPU time
// and memory with it and stops them with it.
import cluster from "node:cluster";

const [workers, script, port] = process.argv.slice(2);
const count = Number(workers);
if (!Number.isInteger(count) || count < 1 || !script || !port) {
  console.error("usage: node cluster.mjs N SCRIPT PORT");
  process.exit(2);
}

cluster.setupPrimary({ exec: script, args: [port] });
for (let i = 0; i < count; i++) cluster.fork();
cluster.on("exit", (worker, code, signal) => {
  console.error(`cluster: worker ${worker.process.pid} exited (${signal ?? code})`);
});
