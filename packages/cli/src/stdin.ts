/** Reads all of stdin as bytes; optionally drops one trailing newline (\n or \r\n). */
export async function readStdin(dropNewline: boolean): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const buf = Buffer.concat(chunks);
  for (const c of chunks) c.fill(0);
  let end = buf.length;
  if (dropNewline && end > 0 && buf[end - 1] === 0x0a) {
    end--;
    if (end > 0 && buf[end - 1] === 0x0d) end--;
  }
  const out = new Uint8Array(buf.subarray(0, end));
  buf.fill(0);
  return out;
}

/** Reads one line from a TTY without echoing it. */
export function readHidden(prompt: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    const bytes: number[] = [];
    stdin.setRawMode?.(true);
    stdin.resume();
    const done = (err?: Error) => {
      stdin.setRawMode?.(false);
      stdin.pause();
      stdin.off("data", onData);
      process.stderr.write("\n");
      if (err) {
        bytes.fill(0);
        reject(err);
      } else {
        const out = new Uint8Array(bytes);
        bytes.fill(0);
        resolve(out);
      }
    };
    const onData = (chunk: Buffer) => {
      for (const b of chunk) {
        if (b === 0x0d || b === 0x0a || b === 0x04) return done();
        if (b === 0x03) return done(new Error("cancelled"));
        if (b === 0x7f || b === 0x08) bytes.pop();
        else bytes.push(b);
      }
      chunk.fill(0);
    };
    stdin.on("data", onData);
  });
}
