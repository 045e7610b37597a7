// A function process for the fault-injection tests: the built runtime and a provider package
// (dist/, as a deployed bundle has them), driven step by step over IPC by the test, which
// flips the local key server's knobs between steps. It never calls process.exit or
// dispose(): after `end` it only closes the IPC channel, so it exits by itself only if the
// runtime left no timer or socket behind. An unhandled rejection is reported on stderr.
const provider = process.env.CHILD_PROVIDER;
await import(provider === "local" ? "@sealkit/envelope/local" : `@sealkit/${provider}`);
const { configure, register, secret } = await import("@sealkit/runtime");

process.on("unhandledRejection", (e) => {
  process.stderr.write(`UNHANDLED_REJECTION ${e?.code ?? ""} ${e?.message ?? e}\n`);
  process.exitCode = 70;
});

let offset = 0;
let events = [];
const take = () => {
  const e = events;
  events = [];
  return e;
};

async function step(m) {
  switch (m.op) {
    case "register":
      register(m.keyRecord, m.envelopes, { pins: m.pins });
      configure({ ...m.options, clock: () => Date.now() + offset, onEvent: (e) => events.push(e) });
      return {};
    case "advance":
      offset += m.ms;
      return {};
    case "read": {
      const t0 = Date.now();
      try {
        const value = await secret(m.name);
        return { ok: true, value, ms: Date.now() - t0 };
      } catch (e) {
        return { ok: false, ms: Date.now() - t0, error: { name: e?.name, code: e?.code, message: e?.message, details: e?.details, retryable: e?.retryable } };
      }
    }
    case "unhandled":
      // Only for the test that shows the harness catches unhandled rejections.
      Promise.reject(new Error("deliberately unhandled"));
      return {};
    case "sleep":
      await new Promise((r) => setTimeout(r, m.ms));
      return {};
    default:
      throw new Error(`unknown op ${m.op}`);
  }
}

process.on("message", (m) => {
  if (m.op === "end") {
    process.removeAllListeners("message");
    process.disconnect();
    return;
  }
  step(m).then(
    (r) => process.send({ id: m.id, ...r, events: take() }),
    (e) => process.send({ id: m.id, crash: String(e?.stack ?? e), events: take() }),
  );
});
process.send({ ready: true });
