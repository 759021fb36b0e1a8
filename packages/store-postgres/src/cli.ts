#!/usr/bin/env node
import { runMigrateCli } from './cli-main.js';

const code = await runMigrateCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
});
process.exitCode = code;
