// The benchmark's handlers on plain node:http: the floor a Node server can
// reach with these handlers (no framework, no validation library).
//
//     node node_http_app.mjs PORT
//
// Same cases as bench/typescript/rohas-app: GET /health, POST /users (the body
// parsed and checked by hand: an object with string `name` and `email`, 422
// otherwise), GET /objects (100 small objects).
import http from "node:http";

function send(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

async function health() {
  return { status: "ok" };
}

async function createUser(input) {
  return input;
}

async function objects() {
  const items = [];
  for (let i = 0; i < 100; i++) {
    items.push({ id: i, name: `item-${i}`, price: i * 1.5, active: i % 2 === 0, tags: ["bench", "rohas"] });
  }
  return items;
}

function validUser(value) {
  return (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    typeof value.name === "string" &&
    typeof value.email === "string"
  );
}

const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/health") {
    health().then((v) => send(res, 200, v));
  } else if (req.method === "GET" && req.url === "/objects") {
    objects().then((v) => send(res, 200, v));
  } else if (req.method === "POST" && req.url === "/users") {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      let value;
      try {
        value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return send(res, 400, { error: "body is not JSON" });
      }
      if (!validUser(value)) return send(res, 422, { error: "body must be {name: string, email: string}" });
      createUser({ name: value.name, email: value.email }).then((v) => send(res, 200, v));
    });
  } else {
    send(res, 404, { error: "not found" });
  }
});

const port = Number(process.argv[2] ?? 8003);
server.keepAliveTimeout = 60_000;
server.listen(port, "127.0.0.1");
