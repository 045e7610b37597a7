import { codeFrameColumns } from "@babel/code-frame";
import { SealkitError } from "@sealkit/envelope";

export interface Location {
  file: string;
  /** 1-based */
  line: number;
  /** 0-based, as Rollup and esbuild count */
  column: number;
  lineText: string;
  length: number;
}

/** Line and column of a UTF-16 offset. */
export function locate(code: string, file: string, start: number, end = start): Location {
  let line = 1;
  let lineStart = 0;
  for (let i = code.indexOf("\n"); i !== -1 && i < start; i = code.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  const nl = code.indexOf("\n", lineStart);
  const lineText = code.slice(lineStart, nl === -1 ? code.length : nl).replace(/\r$/, "");
  const column = start - lineStart;
  return { file, line, column, lineText, length: Math.max(1, Math.min(end, lineStart + lineText.length) - start) };
}

/**
 * A build error at a place in a source file: code `E_BUILD`, the message prefixed with
 * `file:line:column`, and the location and code frame in `details` for the bundler.
 * The frame shows source code, never values: the plugin never sees a plaintext.
 */
export function buildError(message: string, code: string, file: string, start: number, end = start): SealkitError {
  const loc = locate(code, file, start, end);
  const frame = codeFrameColumns(
    code,
    { start: { line: loc.line, column: loc.column + 1 }, end: { line: loc.line, column: loc.column + 1 + loc.length } },
    { highlightCode: false, linesAbove: 1, linesBelow: 1 },
  );
  return new SealkitError("E_BUILD", `${file}:${loc.line}:${loc.column + 1}: ${message}`, {
    details: { file, line: loc.line, column: loc.column, lineText: loc.lineText, length: loc.length, frame, reason: message },
  });
}

export interface BuildErrorDetails {
  file: string;
  line: number;
  column: number;
  lineText: string;
  length: number;
  frame: string;
  reason: string;
}

export function detailsOf(e: SealkitError): BuildErrorDetails | undefined {
  return typeof e.details.file === "string" && typeof e.details.line === "number" ? (e.details as unknown as BuildErrorDetails) : undefined;
}
