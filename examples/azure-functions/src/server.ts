/**
 * A local host for the handler (what `func start` does), used by the end-to-end test: an
 * HTTP server on $PORT that calls `handler` per request and prints its port as JSON.
 */
import { createServer } from "node:http";
import { handler } from "./handler.js";

const server = createServer(async (req, res) => {
  const r = await handler(req, { log: (...a: unknown[]) => console.error(...a) });
  res.writeHead(r.status, { "content-type": "application/json" }).end(JSON.stringify(r.jsonBody));
});
server.listen(Number(process.env.PORT ?? 7071), "127.0.0.1", () => {
  const addr = server.address();
  console.log(JSON.stringify({ message: "listening", port: typeof addr === "object" && addr ? addr.port : undefined }));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
