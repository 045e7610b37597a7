/** Cloud Run entry: an HTTP server on $PORT (Cloud Functions would export `handler` instead). */
import { createServer } from "node:http";
import { handler } from "./handler.js";

const server = createServer((req, res) => void handler(req, res));
server.listen(Number(process.env.PORT ?? 8080), () => {
  const addr = server.address();
  console.log(JSON.stringify({ message: "listening", port: typeof addr === "object" && addr ? addr.port : undefined }));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
