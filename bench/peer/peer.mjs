// peer.mjs — what a user would write instead of sorad, for the benchmarks: watch a
// folder with chokidar; for each new prompt file, create a video with the official
// openai SDK, poll it (2 s, doubling to 10 s), then stream the video, thumbnail and
// spritesheet to disk and write NAME.json last. At most MAX_IN_FLIGHT jobs at once.
//
// Usage: node peer.mjs INBOX OUTBOX   (env: OPENAI_BASE_URL, OPENAI_API_KEY,
//        MAX_IN_FLIGHT=256)
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import chokidar from 'chokidar';
import OpenAI from 'openai';

const [inbox, outbox] = process.argv.slice(2);
if (!inbox || !outbox) {
  console.error('usage: node peer.mjs INBOX OUTBOX');
  process.exit(64);
}
const maxInFlight = Number(process.env.MAX_IN_FLIGHT || 256);
const client = new OpenAI(); // OPENAI_BASE_URL and OPENAI_API_KEY from the environment
fs.mkdirSync(outbox, { recursive: true });

// A counting semaphore: a finished job hands its slot straight to the next waiter.
let active = 0;
const waiting = [];
function acquire() {
  if (active < maxInFlight) {
    active++;
    return Promise.resolve();
  }
  return new Promise((resolve) => waiting.push(resolve));
}
function release() {
  const next = waiting.shift();
  if (next) next();
  else active--;
}

const variants = { video: 'mp4', thumbnail: 'thumbnail.webp', spritesheet: 'spritesheet.jpg' };

async function download(id, variant, file) {
  const res = await client.videos.downloadContent(id, { variant });
  const tmp = `${file}.part`;
  await pipeline(Readable.fromWeb(res.body), fs.createWriteStream(tmp));
  fs.renameSync(tmp, file);
}

async function run(file) {
  const name = path.basename(file).replace(/\.txt$/, '');
  await acquire();
  try {
    const prompt = fs.readFileSync(file, 'utf8');
    let video = await client.videos.create({ prompt, model: 'sora-2', seconds: '4', size: '1280x720' });
    fs.unlinkSync(file);
    let delay = 2000;
    while (video.status === 'queued' || video.status === 'in_progress') {
      await sleep(delay);
      delay = Math.min(delay * 2, 10000);
      video = await client.videos.retrieve(video.id);
    }
    if (video.status !== 'completed') throw new Error(`${video.id}: ${video.status}`);
    for (const [variant, ext] of Object.entries(variants))
      await download(video.id, variant, path.join(outbox, `${name}.${ext}`));
    fs.writeFileSync(path.join(outbox, `${name}.json`), JSON.stringify({ name, prompt, video }));
  } catch (err) {
    console.error(`${name}: ${err.message}`);
  } finally {
    release();
  }
}

chokidar
  .watch(inbox, { depth: 0, ignored: (p) => /(^|\/)\.|\.tmp$/.test(path.basename(p)) })
  .on('add', (file) => {
    if (file.endsWith('.txt')) run(file);
  })
  .on('ready', () => console.error(`peer: watching ${inbox}`));
