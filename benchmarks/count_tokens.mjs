// Count o200k_base tokens of a tool list, the same way for every tool.
//
//   node benchmarks/count_tokens.mjs TOOLS.json [NODE_MODULES_DIR]
//   node benchmarks/count_tokens.mjs --text FILE... (one count per file, of its text as is)
//
// TOOLS.json is either {"tools": [...]} or a bare array. The count is taken over
// JSON.stringify(tools) (compact, no whitespace); special-token text such as
// "<|endoftext|>" is counted as ordinary text. Prints two integers: the whole tool
// list, then only the parts every tool list has (name, description, inputSchema), so
// the two sides can also be compared like for like.
// NODE_MODULES_DIR defaults to .cache/npm/node_modules beside this repository.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function loadTokenizer(nodeModules) {
  const require = createRequire(join(nodeModules, 'noop.js'));
  return require('gpt-tokenizer/encoding/o200k_base');
}

function readTools(path) {
  const data = JSON.parse(readFileSync(path, 'utf8'));
  const tools = Array.isArray(data) ? data : data.tools;
  if (!Array.isArray(tools)) {
    throw new Error(`${path}: expected {"tools": [...]} or an array`);
  }
  return tools;
}

function countTexts(paths) {
  const { countTokens } = loadTokenizer(join(here, '..', '.cache', 'npm', 'node_modules'));
  for (const path of paths) {
    console.log(countTokens(readFileSync(path, 'utf8'), { disallowedSpecial: new Set() }));
  }
  return 0;
}

function main(argv) {
  if (argv[0] === '--text') {
    return countTexts(argv.slice(1));
  }
  if (argv.length < 1 || argv.length > 2) {
    console.error('usage: node count_tokens.mjs TOOLS.json [NODE_MODULES_DIR]');
    return 2;
  }
  const nodeModules = resolve(argv[1] ?? join(here, '..', '.cache', 'npm', 'node_modules'));
  const { countTokens } = loadTokenizer(nodeModules);
  const tools = readTools(argv[0]);
  const count = (value) => countTokens(JSON.stringify(value), { disallowedSpecial: new Set() });
  const inputOnly = tools.map((t) => ({
    name: t.name, description: t.description, inputSchema: t.inputSchema,
  }));
  console.log(`${count(tools)} ${count(inputOnly)}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
