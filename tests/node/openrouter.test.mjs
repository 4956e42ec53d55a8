// The official OpenRouter TypeScript SDK (@openrouter/sdk), unchanged, against
// sora-sim --protocol openrouter: generate, getGeneration, getVideoContent and
// listVideosModels, and the SDK's error classes. Every answer goes through the SDK's
// own zod schemas (a mismatch throws ResponseValidationError); the status words are
// checked against the SDK's closed list too, since its enums are open. Run by
// tests/integration/sim_openrouter_sdk.sh, which starts the sims and sets SIM_URL (any
// key), FAULT_URL (--api-key sk-or-test --p429 1) and REF_PNG (a small PNG).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { OpenRouter } from '@openrouter/sdk';
import {
  BadRequestResponseError,
  ConflictResponseError,
  NotFoundResponseError,
  TooManyRequestsResponseError,
  UnauthorizedResponseError,
} from '@openrouter/sdk/models/errors';
import { VideoGenerationResponseStatus } from '@openrouter/sdk/models';

const SIM_URL = process.env.SIM_URL;
const FAULT_URL = process.env.FAULT_URL;
assert.ok(SIM_URL && FAULT_URL, 'SIM_URL and FAULT_URL must be set (run through sim_openrouter_sdk.sh)');

// No retries: every answer reaches the test as it was sent.
const noRetry = { strategy: 'none' };
const client = new OpenRouter({ apiKey: 'sk-or-test', serverURL: SIM_URL + '/api/v1', retryConfig: noRetry });
const stranger = new OpenRouter({ apiKey: 'sk-or-other', serverURL: SIM_URL + '/api/v1', retryConfig: noRetry });
const STATUSES = Object.values(VideoGenerationResponseStatus);

// The SDK takes the request body as videoGenerationRequest (camelCase fields).
function gen(c, videoGenerationRequest) {
  return c.videoGeneration.generate({ videoGenerationRequest });
}

async function waitTerminal(jobId, deadlineMs = 30000) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const j = await client.videoGeneration.getGeneration({ jobId });
    assert.ok(STATUSES.includes(j.status), `status '${j.status}' is one of ${STATUSES}`);
    if (!['pending', 'in_progress'].includes(j.status)) return j;
    if (Date.now() > end) throw new Error(`job ${jobId} still ${j.status} after ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 50)); // poll interval, not synchronization
  }
}

async function expectError(promise, cls, status, messagePart) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.statusCode, status);
    assert.equal(err.error.code, status, 'error.code is the HTTP status');
    if (messagePart) assert.ok(err.error.message.includes(messagePart), `'${err.error.message}' mentions '${messagePart}'`);
    return true;
  });
}

async function streamBytes(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

let done; // a completed google/veo-3.1 job of sk-or-test

test('listVideosModels: the catalog, each model with what it accepts and its prices', async () => {
  const { data } = await client.videoGeneration.listVideosModels();
  const ids = data.map((m) => m.id);
  for (const id of ['google/veo-3.1', 'openai/sora-2-pro', 'alibaba/wan-2.6']) assert.ok(ids.includes(id), `${id} listed`);
  const veo = data.find((m) => m.id === 'google/veo-3.1');
  assert.deepEqual(veo.supportedDurations, [4, 6, 8]);
  assert.deepEqual(veo.supportedResolutions, ['720p', '1080p']);
  assert.deepEqual(veo.supportedAspectRatios, ['16:9', '9:16']);
  assert.deepEqual(veo.supportedFrameImages, ['first_frame', 'last_frame']);
  assert.equal(veo.supportedSizes, null);
  assert.equal(veo.generateAudio, true);
  for (const v of Object.values(veo.pricingSkus)) assert.ok(Number(v) > 0, `price ${v} is a number`);
  const sora = data.find((m) => m.id === 'openai/sora-2-pro');
  assert.deepEqual(sora.supportedDurations, [4, 8, 12]);
  assert.ok(sora.supportedSizes.includes('1280x720'));
  const wan = data.find((m) => m.id === 'alibaba/wan-2.6');
  assert.deepEqual(wan.supportedFrameImages, ['first_frame']);
});

test('generate: 202 pending with a polling URL; getGeneration until completed with usage.cost', async () => {
  const job = await gen(client, {
    model: 'google/veo-3.1', prompt: 'sdk: a lighthouse at dusk', duration: 4, resolution: '720p',
    aspectRatio: '16:9', generateAudio: false, seed: 7,
  });
  assert.match(job.id, /^gen-vid-\d+-[A-Za-z0-9]{20}$/);
  assert.equal(job.status, 'pending');
  assert.equal(job.pollingUrl, `${SIM_URL}/api/v1/videos/${job.id}`);
  done = await waitTerminal(job.id);
  assert.equal(done.status, 'completed');
  assert.equal(done.id, job.id);
  assert.match(done.generationId, /^gen-\d+-/);
  assert.deepEqual(done.unsignedUrls, [`${SIM_URL}/api/v1/videos/${job.id}/content?index=0`]);
  assert.equal(done.usage.cost, 0.8, '4 s at $0.20/s without audio');
  assert.equal(done.usage.isByok, false);
});

test('getVideoContent: the MP4 at index 0', async () => {
  const bytes = await streamBytes(await client.videoGeneration.getVideoContent({ jobId: done.id, index: 0 }));
  assert.ok(bytes.length > 100, `an MP4 of ${bytes.length} bytes`);
  assert.equal(bytes.subarray(4, 8).toString('latin1'), 'ftyp');
});

test('generate: a duration the model does not take is a 400 naming the allowed ones', async () => {
  await expectError(
    gen(client, { model: 'google/veo-3.1', prompt: 'sdk: five seconds', duration: 5 }),
    BadRequestResponseError, 400, 'Supported: 4, 6, 8');
  await assert.rejects(
    gen(client, { model: 'google/veo-3.1', prompt: 'sdk: five seconds', duration: 5 }),
    (err) => { assert.deepEqual(err.error.metadata.supported, [4, 6, 8]); return true; });
  await expectError(
    gen(client, { model: 'google/veo-3.1', prompt: 'sdk: square', aspectRatio: '1:1' }),
    BadRequestResponseError, 400, 'aspect_ratio');
  await expectError(
    gen(client, { model: 'openai/sora-2-pro', prompt: 'sdk: odd size', size: '640x480' }),
    BadRequestResponseError, 400, 'size');
  await expectError(
    gen(client, { model: 'acme/none', prompt: 'sdk: no such model' }),
    BadRequestResponseError, 400, 'acme/none');
});

test('generate: frame images as data URLs; a frame type the model does not take is a 400', async () => {
  const url = 'data:image/png;base64,' + (await readFile(process.env.REF_PNG)).toString('base64');
  const frame = (frameType) => ({ type: 'image_url', imageUrl: { url }, frameType });
  const job = await gen(client, {
    model: 'google/veo-3.1', prompt: 'sdk: first and last', duration: 6,
    frameImages: [frame('first_frame'), frame('last_frame')],
  });
  assert.equal(job.status, 'pending');
  await expectError(
    gen(client, { model: 'alibaba/wan-2.6', prompt: 'sdk: wan last', frameImages: [frame('last_frame')] }),
    BadRequestResponseError, 400, 'frame_type');
});

test('generate with previousJobId: a completed job continues; unknown, foreign or other-model ones do not', async () => {
  const next = await gen(client, {
    model: 'google/veo-3.1', prompt: 'sdk: and then the sun rose', duration: 8, previousJobId: done.id,
  });
  assert.equal(next.status, 'pending');
  const after = await waitTerminal(next.id);
  assert.equal(after.status, 'completed');
  assert.equal(after.usage.cost, 3.2, '8 s at $0.40/s with audio (the default)');
  await expectError(
    gen(client, { model: 'google/veo-3.1', prompt: 'sdk: x', previousJobId: 'gen-vid-1-AAAAAAAAAAAAAAAAAAAA' }),
    NotFoundResponseError, 404);
  await expectError(
    gen(stranger, { model: 'google/veo-3.1', prompt: 'sdk: x', previousJobId: done.id }),
    NotFoundResponseError, 404);
  await expectError(
    gen(client, { model: 'openai/sora-2-pro', prompt: 'sdk: x', previousJobId: done.id }),
    BadRequestResponseError, 400, 'same model');
  await expectError(
    gen(client, { model: 'alibaba/wan-2.6', prompt: 'sdk: x', previousJobId: done.id }),
    BadRequestResponseError, 400, 'previous_job_id');
});

test('getGeneration: failed and cancelled jobs carry an error; another key sees no job', async () => {
  const failed = await gen(client, { model: 'openai/sora-2-pro', prompt: 'sdk: [sim:fail]', duration: 4, size: '720x1280' });
  const f = await waitTerminal(failed.id);
  assert.equal(f.status, 'failed');
  assert.ok(f.error.length > 0);
  assert.equal(f.usage, undefined);
  const cancelled = await gen(client, { model: 'alibaba/wan-2.6', prompt: 'sdk: [sim:status=cancelled]' });
  const c = await waitTerminal(cancelled.id);
  assert.equal(c.status, 'cancelled');
  assert.equal(c.error, 'Job was cancelled');
  await expectError(stranger.videoGeneration.getGeneration({ jobId: done.id }), NotFoundResponseError, 404);
  await expectError(client.videoGeneration.getGeneration({ jobId: 'gen-vid-1-nothing' }), NotFoundResponseError, 404);
});

test('getVideoContent before completion is a 409; a wrong key is a 401', async () => {
  const job = await gen(client, { model: 'google/veo-3.1', prompt: 'sdk: not yet', duration: 4 });
  await expectError(client.videoGeneration.getVideoContent({ jobId: job.id, index: 0 }), ConflictResponseError, 409);
  // The fault sim takes only sk-or-test (--api-key; the key is checked before any
  // fault is drawn). Without a key, a poll is a 401 and the catalog public.
  const wrong = new OpenRouter({ apiKey: 'sk-wrong', serverURL: FAULT_URL + '/api/v1', retryConfig: noRetry });
  await expectError(wrong.videoGeneration.getGeneration({ jobId: job.id }), UnauthorizedResponseError, 401);
  const anon = new OpenRouter({ serverURL: SIM_URL + '/api/v1', retryConfig: noRetry });
  await expectError(anon.videoGeneration.getGeneration({ jobId: job.id }), UnauthorizedResponseError, 401,
    'Missing Authentication header');
  assert.ok((await anon.videoGeneration.listVideosModels()).data.length >= 3);
});

test('an injected 429 (--p429 1) is TooManyRequestsResponseError with retry-after', async () => {
  const limited = new OpenRouter({ apiKey: 'sk-or-test', serverURL: FAULT_URL + '/api/v1', retryConfig: noRetry });
  await assert.rejects(
    gen(limited, { model: 'google/veo-3.1', prompt: 'sdk: limited', duration: 4 }),
    (err) => {
      assert.ok(err instanceof TooManyRequestsResponseError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.statusCode, 429);
      assert.equal(err.headers.get('retry-after'), '1');
      return true;
    });
});
