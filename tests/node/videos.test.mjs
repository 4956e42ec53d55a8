// The official OpenAI Node SDK, unchanged, against sora-sim: proves the simulator is
// faithful enough for real clients. Run by tests/integration/sim_node_sdk.sh, which
// starts the sim (--api-key sk-node-test) and sets SIM_URL, REF_OK (a 720x1280 PNG)
// and REF_WRONG (a 640x480 PNG).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import OpenAI, { toFile, BadRequestError, AuthenticationError, NotFoundError } from 'openai';

const SIM_URL = process.env.SIM_URL;
assert.ok(SIM_URL, 'SIM_URL must be set (run through sim_node_sdk.sh)');

// maxRetries 0: every error reaches the test as it was sent.
const client = new OpenAI({ apiKey: 'sk-node-test', baseURL: SIM_URL + '/v1', maxRetries: 0 });

async function waitTerminal(id, deadlineMs = 30000) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await client.videos.retrieve(id);
    if (v.status === 'completed' || v.status === 'failed') return v;
    if (Date.now() > end) throw new Error(`video ${id} still ${v.status} after ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 50)); // poll interval, not synchronization
  }
}

async function png(path, name) {
  return toFile(await readFile(path), name, { type: 'image/png' });
}

async function expectError(promise, cls, status, fields = {}) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.status, status);
    for (const [k, v] of Object.entries(fields)) assert.equal(err[k], v, `error.${k}`);
    return true;
  });
}

const created = [];

test('create, then retrieve until completed', async () => {
  const v = await client.videos.create({ prompt: 'sdk: a lighthouse at dusk', model: 'sora-2', seconds: '4', size: '1280x720' });
  assert.match(v.id, /^video_[0-9a-f]{32}$/);
  assert.equal(v.object, 'video');
  assert.equal(v.status, 'queued');
  assert.equal(v.progress, 0);
  assert.equal(v.model, 'sora-2');
  assert.equal(v.seconds, '4');
  assert.equal(v.size, '1280x720');
  for (const k of ['completed_at', 'expires_at', 'error', 'remixed_from_video_id']) {
    assert.ok(k in v, `${k} present`);
    assert.equal(v[k], null, `${k} is null`);
  }
  const done = await waitTerminal(v.id);
  assert.equal(done.status, 'completed');
  assert.equal(done.progress, 100);
  assert.ok(done.completed_at >= done.created_at);
  assert.ok(done.expires_at > done.completed_at);
  created.push(done.id);
});

test('create with input_reference from toFile', async () => {
  const v = await client.videos.create({
    prompt: 'sdk: with a reference', size: '720x1280',
    input_reference: await png(process.env.REF_OK, 'ref.png'),
  });
  assert.equal(v.status, 'queued');
  assert.equal(v.size, '720x1280');
  created.push(v.id);
});

test('downloadContent: video, thumbnail and spritesheet bytes', async () => {
  const id = created[0];
  const video = Buffer.from(await (await client.videos.downloadContent(id)).arrayBuffer());
  assert.equal(video.subarray(4, 8).toString('latin1'), 'ftyp', 'MP4 has ftyp at offset 4');
  const res = await client.videos.downloadContent(id, { variant: 'thumbnail' });
  assert.equal(res.headers.get('content-type'), 'image/webp');
  const webp = Buffer.from(await res.arrayBuffer());
  assert.equal(webp.subarray(0, 4).toString('latin1'), 'RIFF');
  assert.equal(webp.subarray(8, 12).toString('latin1'), 'WEBP');
  const jpg = Buffer.from(await (await client.videos.downloadContent(id, { variant: 'spritesheet' })).arrayBuffer());
  assert.deepEqual([...jpg.subarray(0, 2)], [0xff, 0xd8]);
});

test('list with auto-pagination over several pages', async () => {
  for (let i = 0; i < 4; i++) {
    created.push((await client.videos.create({ prompt: `sdk: list item ${i}` })).id);
  }
  assert.ok(created.length >= 5);
  const first = await client.videos.list({ limit: 2, order: 'asc' });
  assert.equal(first.data.length, 2);
  assert.ok(first.hasNextPage(), 'the first page of 2 has a next page');
  const seen = [];
  for await (const v of client.videos.list({ limit: 2, order: 'asc' })) seen.push(v.id);
  assert.deepEqual(seen, created, 'asc auto-pagination yields every video once, in order');
  const desc = [];
  for await (const v of client.videos.list({ limit: 2 })) desc.push(v.id);
  assert.deepEqual(desc, [...created].reverse(), 'default (desc) order');
});

test('remix a completed video', async () => {
  const src = created[0];
  const r = await client.videos.remix(src, { prompt: 'sdk: the same, in winter' });
  assert.equal(r.remixed_from_video_id, src);
  assert.equal(r.status, 'queued');
  assert.equal(r.size, '1280x720');
  const done = await waitTerminal(r.id);
  assert.equal(done.status, 'completed');
});

test('delete, then NotFoundError', async () => {
  const id = created[created.length - 1];
  await waitTerminal(id);
  const d = await client.videos.delete(id);
  assert.deepEqual(d, { id, object: 'video.deleted', deleted: true });
  await expectError(client.videos.retrieve(id), NotFoundError, 404, { code: 'video_not_found' });
  await expectError(client.videos.retrieve('video_00000000000000000000000000000000'), NotFoundError, 404);
});

test('BadRequestError for bad size, seconds, model and reference', async () => {
  await expectError(client.videos.create({ prompt: 'x', size: '640x480' }), BadRequestError, 400,
    { param: 'size', code: 'invalid_value', type: 'invalid_request_error' });
  await expectError(client.videos.create({ prompt: 'x', model: 'sora-2', size: '1920x1080' }), BadRequestError, 400,
    { param: 'size' });
  await expectError(client.videos.create({ prompt: 'x', seconds: '10' }), BadRequestError, 400,
    { param: 'seconds', code: 'invalid_value' });
  await expectError(client.videos.create({ prompt: 'x', model: 'sora-3' }), BadRequestError, 400,
    { param: 'model', code: 'invalid_value' });
  await expectError(client.videos.create({
    prompt: 'x', size: '720x1280', input_reference: await png(process.env.REF_WRONG, 'wrong.png'),
  }), BadRequestError, 400, { param: 'input_reference' });
  await expectError(client.videos.create({ prompt: 'blocked [sim:moderation]' }), BadRequestError, 400,
    { code: 'moderation_blocked', param: 'prompt' });
});

test('AuthenticationError for a wrong key', async () => {
  const bad = new OpenAI({ apiKey: 'sk-wrong', baseURL: SIM_URL + '/v1', maxRetries: 0 });
  await expectError(bad.videos.list(), AuthenticationError, 401, { code: 'invalid_api_key' });
});
