// Invokes the built handler once, as Lambda would.
const { handler } = await import("./dist/handler.mjs");
console.log(await handler());
