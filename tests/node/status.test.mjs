// The official OpenAI Node SDK, unchanged, pointed at sorad's read-only status API
// (/api/v1): its list (pages, limit 0..100, order), retrieve by id and by job name,
// downloadContent, and its error classes with the fields the SDK reads (type, param,
// code). Run by tests/integration/httpd_node_sdk.sh, which starts sora-sim and sorad
// with jobs a, b, c done and `doomed` failed, and sets STATUS_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { BadRequestError, NotFoundError, ConflictError } from 'openai';

const STATUS_URL = process.env.STATUS_URL;
assert.ok(STATUS_URL, 'STATUS_URL must be set (run through httpd_node_sdk.sh)');
// The status API needs no key; the SDK insists on one, and sorad ignores it.
const client = new OpenAI({ apiKey: 'unused', baseURL: STATUS_URL + '/api/v1', maxRetries: 0 });

async function expectError(promise, cls, status, fields = {}) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.status, status);
    for (const [k, v] of Object.entries(fields)) assert.equal(err[k], v, `error.${k}`);
    return true;
  });
}

test('list: every page through the SDK\'s cursor, newest first, created_at descending', async () => {
  const names = [];
  const created = [];
  for await (const v of client.videos.list({ limit: 1 })) {
    names.push(v.name);
    created.push(v.created_at);
    assert.equal(v.object, 'video');
  }
  assert.deepEqual(names, ['doomed', 'c', 'b', 'a']);
  assert.deepEqual(created, [...created].sort((x, y) => y - x));
});

test('list: ascending, and limit 0 is an empty page that says there is more', async () => {
  const page = await client.videos.list({ order: 'asc', limit: 100 });
  assert.deepEqual(page.data.map((v) => v.name), ['a', 'b', 'c', 'doomed']);
  assert.equal(page.has_more, false);
  const empty = await client.videos.list({ limit: 0 });
  assert.equal(empty.data.length, 0);
  assert.equal(empty.has_more, true);
});

test('list: limit 101 is refused with param "limit"', async () => {
  await expectError(client.videos.list({ limit: 101 }), BadRequestError, 400,
    { type: 'invalid_request_error', param: 'limit', code: 'invalid_parameter' });
});

test('retrieve by video id and by job name; download the MP4', async () => {
  const byName = await client.videos.retrieve('a');
  assert.equal(byName.status, 'completed');
  assert.match(byName.id, /^video_/);
  const byId = await client.videos.retrieve(byName.id);
  assert.equal(byId.name, 'a');
  const res = await client.videos.downloadContent(byName.id);
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.equal(bytes.subarray(4, 8).toString('latin1'), 'ftyp');
});

test('errors: unknown video 404, content of a failed video 409, each with param null', async () => {
  await expectError(client.videos.retrieve('video_nosuchthing'), NotFoundError, 404,
    { type: 'invalid_request_error', param: null, code: 'not_found' });
  await expectError(client.videos.downloadContent('doomed'), ConflictError, 409,
    { param: null, code: 'video_failed' });
});
