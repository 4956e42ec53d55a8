// A loopback receiver of sora-sim's OpenRouter callbacks, for sim_openrouter.sh: it
// listens on 127.0.0.1 (port 0, written to PORT_FILE), and appends one JSON line per
// POST to LOG_FILE: the headers, the raw body, and whether the signature is right.
// The check is Node's own crypto, written from OpenRouter's documentation ("Get Video
// Results with Webhooks": X-OpenRouter-Signature t=<unix>,v1=<hex HMAC-SHA256 of
// "<t>,<raw body>">), independent of the simulator's code. FAIL_FIRST=N answers the
// first N deliveries 500, the rest 204.
import http from 'node:http';
import crypto from 'node:crypto';
import { appendFileSync, writeFileSync, renameSync } from 'node:fs';

const { PORT_FILE, LOG_FILE, SECRET = '' } = process.env;
let failFirst = Number(process.env.FAIL_FIRST ?? 0);

function verify(raw, header) {
  if (!SECRET || !header) return false;
  const parts = header.split(',').map((p) => p.trim());
  const t = parts.find((p) => p.startsWith('t='))?.slice(2);
  const v1 = parts.find((p) => p.startsWith('v1='))?.slice(3);
  if (!t || !v1 || !/^\d+$/.test(t)) return false;
  const expected = crypto.createHmac('sha256', SECRET)
    .update(Buffer.concat([Buffer.from(`${t},`, 'utf8'), raw])).digest('hex');
  return expected.length === v1.length && crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(v1));
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    const status = failFirst > 0 ? 500 : 204;
    if (failFirst > 0) failFirst--;
    const entry = {
      method: req.method, url: req.url, headers: req.headers, body: raw.toString('utf8'),
      verified: verify(raw, req.headers['x-openrouter-signature']),
      received_at: Math.floor(Date.now() / 1000), answered: status,
    };
    appendFileSync(LOG_FILE, JSON.stringify(entry) + '\n');
    res.writeHead(status);
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => {
  writeFileSync(PORT_FILE + '.tmp', String(server.address().port));
  renameSync(PORT_FILE + '.tmp', PORT_FILE);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
