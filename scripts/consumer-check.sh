#!/usr/bin/env bash
# Installs Switchyard the way a user does and checks that it works, outside the repository:
#   1. packs every publishable package (its prepack script builds it) into a temp dir;
#   2. creates a fresh npm project in another temp dir and installs the tarballs, `ws` and
#      `@types/node` (from the npm registry the machine already uses; cached packages first);
#   3. checks every export of every package resolves to a built file (never src/);
#   4. type-checks a small program with `--strict --skipLibCheck false` (module NodeNext,
#      no DOM lib) and compiles it;
#   5. runs it with plain `node` (no tsx, no source condition): an in-memory cluster, a node
#      on a free port, the admin dashboard mounted behind its hook (page served, 401 without
#      credentials), an SDK client over `ws` that joins a room and receives a message the
#      node sends, then everything closes and the process exits 0 by itself. The NestJS and
#      Fastify integrations are type-checked and loaded with their frameworks as peers.
# Removes its temp dirs on exit. Any failure: a message naming the step and a non-zero exit.
# Usage: bash scripts/consumer-check.sh   (or npm run consumer-check)
set -Eeuo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
started=$SECONDS
current="start"
work=""

fail() {
  printf '\nconsumer-check: FAILED at step "%s": %s\n' "$current" "$*" >&2
  exit 1
}
step() {
  current="$*"
  printf '\n==> %s (%ss)\n' "$*" "$((SECONDS - started))"
}
cleanup() {
  if [ -n "$work" ] && [ -d "$work" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'fail "command failed (line $LINENO, exit $?)"' ERR
# Print a command's output only when it fails.
quiet() {
  local log="$work/last.log"
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    fail "$*"
  fi
}

step "preconditions"
command -v node >/dev/null || fail "node not found"
command -v npm >/dev/null || fail "npm not found"
tsc="$repo/node_modules/typescript/bin/tsc"
[ -f "$tsc" ] || fail "TypeScript is not installed in the repository: run npm ci first"
work="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-consumer-check.XXXXXX")"
work="$(cd "$work" && pwd -P)"
case "$work/" in "$(cd "$repo" && pwd -P)/"*) fail "temp dir $work is inside the repository (set TMPDIR elsewhere)" ;; esac
tarballs="$work/tarballs"
app="$work/app"
mkdir -p "$tarballs" "$app"
# Node resolves packages from every parent directory: nothing above the app may hold node_modules.
dir="$work"
while [ "$dir" != "/" ]; do
  if [ -e "$dir/node_modules" ]; then fail "$dir/node_modules exists: the check would not be isolated"; fi
  dir="$(dirname "$dir")"
done
# No inherited `--conditions=@switchyard/source` or loader: plain node.
unset NODE_OPTIONS

# Publishable packages (not private), @switchyard/core first.
mapfile -t packages < <(cd "$repo" && node -e '
  const fs = require("node:fs");
  const dirs = fs.readdirSync("packages").filter((d) => fs.existsSync(`packages/${d}/package.json`));
  const pub = dirs.filter((d) => !JSON.parse(fs.readFileSync(`packages/${d}/package.json`, "utf8")).private);
  pub.sort((a, b) => (a === "core" ? -1 : b === "core" ? 1 : a.localeCompare(b)));
  console.log(pub.join("\n"));
')
[ "${#packages[@]}" -gt 0 ] || fail "no publishable package found under packages/"
echo "packages: ${packages[*]}"
echo "temp dir: $work"

for p in "${packages[@]}"; do
  step "pack packages/$p (prepack builds it)"
  cd "$repo/packages/$p"
  quiet npm pack --pack-destination "$tarballs" --loglevel=error
done

step "check tarball contents"
shopt -s nullglob
tgz=("$tarballs"/*.tgz)
[ "${#tgz[@]}" -eq "${#packages[@]}" ] || fail "expected ${#packages[@]} tarballs in $tarballs, found ${#tgz[@]}"
for t in "${tgz[@]}"; do
  list="$(tar -tzf "$t")"
  for f in package/package.json package/dist/index.js package/dist/index.d.ts package/README.md; do
    grep -qx "$f" <<<"$list" || fail "$(basename "$t") has no $f"
  done
  if grep -q "tsbuildinfo" <<<"$list"; then fail "$(basename "$t") ships a .tsbuildinfo"; fi
  echo "$(basename "$t"): $(wc -l <<<"$list") files"
done

step "fresh npm project and npm install of the tarballs"
cd "$app"
cat >package.json <<'EOF'
{ "name": "switchyard-consumer-check", "version": "0.0.0", "private": true, "type": "module" }
EOF
quiet npm install --no-audit --no-fund --prefer-offline --loglevel=error "${tgz[@]}" ws '@types/node@^20'
for p in "${packages[@]}"; do
  [ -f "node_modules/@switchyard/$p/package.json" ] || fail "@switchyard/$p is not installed"
  if [ -L "node_modules/@switchyard/$p" ]; then fail "@switchyard/$p is a link, not an installed copy"; fi
done
if [ -e node_modules/vitest ]; then fail "vitest was installed: it must stay an optional peer of @switchyard/core"; fi

step "every export resolves to a built file"
cat >check-exports.mjs <<'EOF'
// For each installed @switchyard package: every export's non-source targets exist, the
// default resolution lands in dist/, and bin targets exist and are installed as commands.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
let bad = 0;
const problem = (msg) => { console.error(`  ${msg}`); bad++; };
for (const dir of readdirSync('node_modules/@switchyard')) {
  const root = join('node_modules/@switchyard', dir);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
    const conditions = typeof target === 'string' ? { default: target } : target;
    for (const [condition, file] of Object.entries(conditions)) {
      if (condition === '@switchyard/source') continue;
      if (!existsSync(join(root, file))) problem(`${pkg.name} exports["${subpath}"].${condition} -> ${file}: missing`);
    }
    const specifier = pkg.name + subpath.slice(1);
    const resolved = fileURLToPath(import.meta.resolve(specifier));
    if (subpath !== './package.json' && !resolved.includes(`/${dir}/dist/`)) problem(`${specifier} resolves to ${resolved}, not dist/`);
  }
  for (const file of [pkg.main, pkg.types, ...Object.values(pkg.bin ?? {})].filter(Boolean)) {
    if (!existsSync(join(root, file))) problem(`${pkg.name}: ${file} missing`);
  }
  for (const name of Object.keys(pkg.bin ?? {})) {
    if (!existsSync(join('node_modules/.bin', name))) problem(`${pkg.name}: command ${name} was not installed`);
  }
  console.log(`  ${pkg.name}@${pkg.version}: ${Object.keys(pkg.exports ?? {}).join(' ')}`);
}
process.exit(bad ? 1 : 0);
EOF
node check-exports.mjs || fail "an export points at a missing or unbuilt file"

step "type-check the program (tsc --strict --skipLibCheck false, NodeNext)"
cat >tsconfig.json <<'EOF'
{
  "compilerOptions": {
    "target": "ES2022",
    "lib": ["ES2023"],
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "skipLibCheck": false,
    "types": ["node"],
    "outDir": "out",
    "noEmitOnError": true
  },
  "files": ["main.ts"]
}
EOF
cat >main.ts <<'EOF'
// A user's first program: one node on the in-memory ports, one SDK client, one room message.
import { createCluster, type ClusterAdapter } from '@switchyard/core';
// What a backend author imports: the subpath resolves from the tarball, types and code.
import { BusRuntime, type BusDriver } from '@switchyard/core/adapter';
import { createNode } from '@switchyard/transport-ws';
import { createClient, type ClientMessage } from '@switchyard/transport-ws/client';
import { createEmitter } from '@switchyard/transport-ws/emitter';
import { createRedisAdapter } from '@switchyard/adapter-redis';
import { createNatsAdapter } from '@switchyard/adapter-nats';
import { createKafkaAdapter } from '@switchyard/adapter-kafka';
import { createPostgresAdapter } from '@switchyard/store-postgres';
import { SwitchyardAdapter } from '@switchyard/nestjs';
import switchyardFastify from '@switchyard/fastify';
import { mountAdmin } from '@switchyard/admin';
import { WebSocket } from 'ws';

// Every package loads from its built files (the adapters are only loaded: no backend here).
for (const f of [createEmitter, createRedisAdapter, createNatsAdapter, createKafkaAdapter, createPostgresAdapter, SwitchyardAdapter, switchyardFastify, BusRuntime]) {
  if (typeof f !== 'function') throw new Error(`not a function: ${String(f)}`);
}
// Every adapter factory returns the one ClusterAdapter shape (checked by the compiler only).
const factories: Array<(options: never) => ClusterAdapter> = [createRedisAdapter, createNatsAdapter, createKafkaAdapter, createPostgresAdapter];
const driverName = (driver: BusDriver): string => driver.name;
void factories;
void driverName;

const deadline = setTimeout(() => {
  console.error('consumer program: no room message within 20 s');
  process.exit(1);
}, 20_000);
deadline.unref();

const cluster = createCluster({ nodeId: 'consumer-1' }); // bus, registry, sessions, history: in memory
const node = createNode({ cluster, port: 0 });
await node.start();

// The admin dashboard ships its page: served from the installed package, behind its hook.
const admin = mountAdmin(node, { path: '/admin', authorize: (req) => req.headers.authorization === 'Bearer consumer' });
const page = await fetch(new URL('/admin/', node.url.replace(/^ws/, 'http')), { headers: { authorization: 'Bearer consumer' } });
const html = await page.text();
if (page.status !== 200 || !html.includes('<title>Switchyard admin</title>')) throw new Error(`admin page: ${page.status} ${html.slice(0, 200)}`);
const refused = await fetch(new URL('/admin/', node.url.replace(/^ws/, 'http')));
if (refused.status !== 401) throw new Error(`admin page without credentials: ${refused.status}, expected 401`);
await refused.text();

const client = createClient({ url: node.url, WebSocket });
const lobby = client.room('lobby');
const subscribed = new Promise<void>((resolve) => lobby.once('subscribed', () => resolve()));
const received = new Promise<ClientMessage>((resolve) => lobby.once('message', resolve));
await subscribed;

await node.to('lobby').send('news', { text: 'hello from the node' });
const message = await received;
const text = (message.data as { text?: unknown } | null)?.text;
if (message.event !== 'news' || text !== 'hello from the node') {
  throw new Error(`unexpected message: ${JSON.stringify(message)}`);
}
console.log(`consumer program: received ${message.event} in ${message.room ?? 'lobby'} from ${node.url}`);

client.close();
await admin.close();
await node.close({ graceMs: 2000 });
clearTimeout(deadline);
// No process.exit: the process ends by itself only if everything closed.
EOF
if ! node "$tsc" -p tsconfig.json --listFiles >tsc.log 2>&1; then
  grep -v '^/' tsc.log >&2 || cat tsc.log >&2
  fail "the program does not type-check against the installed packages"
fi
if grep -E '/node_modules/@switchyard/[^/]+/src/' tsc.log >&2; then
  fail "type-checking read @switchyard sources instead of the shipped .d.ts files"
fi
grep -q '/node_modules/@switchyard/transport-ws/dist/index.d.ts$' tsc.log || fail "@switchyard/transport-ws types were not read from dist/"
grep -q '/node_modules/@switchyard/core/dist/adapter.d.ts$' tsc.log || fail "@switchyard/core/adapter types were not read from dist/"
[ -f out/main.js ] || fail "tsc wrote no out/main.js"
echo "type-check passed ($(grep -c '^/' tsc.log) files, $(grep -c '/node_modules/@switchyard/' tsc.log) from @switchyard)"

step "run it with plain node"
run_log="$work/run.log"
if ! timeout 60 node out/main.js >"$run_log" 2>&1; then
  cat "$run_log" >&2
  fail "the program failed or did not exit by itself within 60 s"
fi
cat "$run_log"
grep -q '^consumer program: received news' "$run_log" || fail "the program did not report the room message"

current="done"
printf '\nconsumer-check: passed in %ss\n' "$((SECONDS - started))"
