// The benchmark's handlers on Fastify (one process, no logger).
//
//     node fastify_app.mjs PORT
//
// Same cases as bench/typescript/rohas-app: GET /health, POST /users (the body
// validated against a JSON schema, as Rohas validates it against
// CreateUserInput), GET /objects (100 small objects). Every route has a
// response schema, as Fastify recommends: its serializer (fast-json-stringify)
// is faster with one. Rohas checks responses only in `rohas dev`.
//
// run.py copies this file next to the installed `fastify`
// (~/.cache/rohas-bench/node) and runs it there, so the import resolves.
import Fastify from "fastify";

const app = Fastify({ logger: false });

const createUserInput = {
  type: "object",
  required: ["name", "email"],
  properties: { name: { type: "string" }, email: { type: "string" } },
  additionalProperties: false,
};

const item = {
  type: "object",
  required: ["id", "name", "price", "active", "tags"],
  properties: {
    id: { type: "integer" },
    name: { type: "string" },
    price: { type: "number" },
    active: { type: "boolean" },
    tags: { type: "array", items: { type: "string" } },
  },
};

app.get(
  "/health",
  { schema: { response: { 200: { type: "object", properties: { status: { type: "string" } } } } } },
  async () => ({ status: "ok" }),
);

app.post("/users", { schema: { body: createUserInput, response: { 200: createUserInput } } }, async (request) => request.body);

app.get("/objects", { schema: { response: { 200: { type: "array", items: item } } } }, async () => {
  const items = [];
  for (let i = 0; i < 100; i++) {
    items.push({ id: i, name: `item-${i}`, price: i * 1.5, active: i % 2 === 0, tags: ["bench", "rohas"] });
  }
  return items;
});

const port = Number(process.argv[2] ?? 8002);
await app.listen({ host: "127.0.0.1", port });
