/** Output helpers: JSON for machines, colour only on a TTY and never with NO_COLOR. */

export interface Out {
  json: boolean;
  /** A human line on stdout (suppressed in --json mode). */
  info(line: string): void;
  /** A human note on stderr (always; never part of the --json document). */
  note(line: string): void;
  /** The command's result: printed as JSON in --json mode, else by `human`. */
  result(value: unknown, human?: () => void): void;
  bold(s: string): string;
  dim(s: string): string;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
}

export function useColor(stream: NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== "dumb";
}

export function createOut(json: boolean, stdout = process.stdout, stderr = process.stderr): Out {
  const color = useColor(stdout);
  const paint = (code: number, reset: number) => (s: string) => (color ? `\u001b[${code}m${s}\u001b[${reset}m` : s);
  return {
    json,
    info(line) {
      if (!json) stdout.write(`${line}\n`);
    },
    note(line) {
      stderr.write(`${line}\n`);
    },
    result(value, human) {
      if (json) stdout.write(`${JSON.stringify(value, null, 2)}\n`);
      else human?.();
    },
    bold: paint(1, 22),
    dim: paint(2, 22),
    green: paint(32, 39),
    red: paint(31, 39),
    yellow: paint(33, 39),
  };
}
