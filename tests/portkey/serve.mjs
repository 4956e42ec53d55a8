// serve.mjs — runs the Portkey AI gateway (@portkey-ai/gateway 1.15.2) of one of the
// test copies in this folder, listening on 127.0.0.1 only, on a port the kernel picks.
//
//   node tests/portkey/serve.mjs COPY_DIR PORT_FILE
//
// COPY_DIR is tests/portkey/npm or tests/portkey/pinned (each has its own node_modules).
// PORT_FILE receives the port, written (temp name, rename) once the socket listens.
//
// Why a wrapper: the package's only entry point, build/start-server.js, is one bundle
// that builds its Hono app in a module-local constant (not exported) and ends with
// `serve({fetch: app.fetch, port})` from @hono/node-server: no hostname, so Node binds
// every interface (`::`), and the only option it reads is `--port=N`. So the app cannot
// be imported and served by us; instead, before importing the bundle, http.Server's
// listen() is wrapped so that a listen without a host gets 127.0.0.1. That is the same
// call @hono/node-server makes (`server.listen(port, options.hostname, cb)`) with the
// hostname filled in. `--port=0` lets the kernel choose a free port (no race between
// picking a port and binding it); the real port is read back from the socket.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [copyDir, portFile] = process.argv.slice(2);
if (!copyDir || !portFile) {
  console.error('usage: node serve.mjs COPY_DIR PORT_FILE');
  process.exit(64);
}
const entry = path.resolve(copyDir, 'node_modules/@portkey-ai/gateway/build/start-server.js');
if (!fs.existsSync(entry)) {
  console.error(`serve.mjs: ${entry} is missing: run scripts/install-deps.sh`);
  process.exit(69);
}

let servers = 0;
const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...args) {
  // listen(port, host, cb) as @hono/node-server calls it; host undefined = every interface.
  if (typeof args[0] === 'number' && (args[1] === undefined || typeof args[1] === 'function')) {
    if (typeof args[1] === 'function') args.splice(1, 0, '127.0.0.1');
    else args[1] = '127.0.0.1';
  }
  if (++servers > 1) {
    console.error('serve.mjs: the gateway opened a second listening socket; refusing');
    process.exit(70);
  }
  this.once('listening', () => {
    const a = this.address();
    if (a.address !== '127.0.0.1') {
      console.error(`serve.mjs: listening on ${a.address}, not 127.0.0.1; stopping`);
      process.exit(70);
    }
    fs.writeFileSync(`${portFile}.tmp`, `${a.port}\n`);
    fs.renameSync(`${portFile}.tmp`, portFile);
  });
  return listen.apply(this, args);
};

// start-server.js reads process.argv: --port=0 (kernel-chosen), --headless (no web UI,
// no /public and /log/stream routes).
process.argv = [process.argv[0], entry, '--port=0', '--headless'];
await import(pathToFileURL(entry).href);
