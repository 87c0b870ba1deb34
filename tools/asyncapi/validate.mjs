// Validates an AsyncAPI document with the official parser: prints every diagnostic and
// exits 1 if any is an error. Usage: node validate.mjs FILE
import { readFile } from "node:fs/promises";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate.mjs FILE");
  process.exit(2);
}
const parser = new Parser();
const { document, diagnostics } = await parser.parse(await readFile(file, "utf8"));
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
for (const d of diagnostics) {
  const level = Object.keys(DiagnosticSeverity).find((k) => DiagnosticSeverity[k] === d.severity);
  console.log(`${level}: ${d.path.join(".") || "(document)"}: ${d.message}`);
}
if (errors.length || !document) {
  console.log(`${file}: invalid (${errors.length} error(s))`);
  process.exit(1);
}
console.log(
  `${file}: valid AsyncAPI ${document.version()}; ` +
    `${document.channels().length} channels, ${document.operations().length} operations, ` +
    `${document.components().messages().length} messages`,
);
