// Calls the built fetch handler once, the way a Workers-style runtime would.
const { default: worker } = await import("./dist/worker.mjs");
const res = await worker.fetch(new Request("http://localhost/hello"));
console.log(res.status, await res.json());
