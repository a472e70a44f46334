// Starts s3rver on loopback (a directory, the buckets named on the command line), optionally holding every
// request N ms before it is served (--latency-ms), as a distant S3 region would. Prints one line
// `READY <endpoint>` when it listens; stops on SIGTERM or when its standard input closes, so a test that dies
// takes the server with it. (s3rver's listing continuation tokens use DES, which Node 17+ offers only with
// --openssl-legacy-provider.)
// Archive storage classes and RestoreObject: glacier.mjs (a restore completes after --restore-delay-ms, default 0,
// or S3RVER_RESTORE_DELAY_MS; --ignore-optional-attributes makes listings ignore x-amz-optional-object-attributes, as
// endpoints without RestoreStatus do).
//   node --openssl-legacy-provider serve.mjs --dir DIR --bucket NAME [--bucket NAME...] [--latency-ms 20] [--port 0] [--restore-delay-ms N] [--ignore-optional-attributes]
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { installGlacier } from './glacier.mjs';

const require = createRequire(import.meta.url);
if (!process.env.S3RVER_VERBOSE) {
  // Silent, s3rver still formats a log line for every request (koa-logger, winston) and drops it: skip that work.
  const koaLogger = require.resolve('koa-logger', { paths: [path.dirname(require.resolve('s3rver'))] });
  require.cache[koaLogger] = { id: koaLogger, filename: koaLogger, loaded: true, exports: () => (ctx, next) => next() };
}
{
  const i = process.argv.indexOf('--restore-delay-ms');
  const delay = Number(i >= 0 ? process.argv[i + 1] : (process.env.S3RVER_RESTORE_DELAY_MS ?? '0'));
  if (!Number.isFinite(delay) || delay < 0) {
    console.error('--restore-delay-ms / S3RVER_RESTORE_DELAY_MS: expected a number of milliseconds, 0 or more');
    process.exit(2);
  }
  installGlacier(require, delay, { ignoreOptionalAttributes: process.argv.includes('--ignore-optional-attributes') });
}
const S3rver = require('s3rver');
const FilesystemStore = require('s3rver/lib/stores/filesystem.js');
const S3Object = require('s3rver/lib/models/object.js');
// s3rver 3.7.1 finds a delimiter listing's common prefixes only one directory below the prefix (it stops
// walking deeper), where S3 groups every key below it. Listings with a delimiter are answered here as S3 does.
const objectSuffix = '._S3rver_object';
const listWithoutDelimiter = FilesystemStore.prototype.listObjects;
FilesystemStore.prototype.listObjects = async function listObjects(bucket, options) {
  const { delimiter = '', prefix = '' } = options;
  if (!delimiter) {
    return listWithoutDelimiter.call(this, bucket, options);
  }
  const bucketPath = this.getBucketPath(bucket);
  if (delimiter === '/' && (prefix === '' || prefix.endsWith('/'))) {
    // The common case, a folder's children: one directory read instead of a walk of everything below it.
    const folder = path.join(bucketPath, prefix);
    const entries = fs.existsSync(folder) ? await fs.promises.readdir(folder, { withFileTypes: true }) : [];
    const folders = entries.filter((e) => e.isDirectory()).map((e) => `${prefix}${e.name}/`);
    const direct = entries.filter((e) => e.isFile() && e.name.endsWith(objectSuffix)).map((e) => prefix + e.name.slice(0, -objectSuffix.length));
    const objects = await Promise.all(direct.sort().map(async (key) => new S3Object(bucket, key, null, await this.getMetadata(bucket, key))));
    return { objects, commonPrefixes: folders.sort(), isTruncated: false };
  }
  const slash = prefix.lastIndexOf('/');
  const start = path.join(bucketPath, slash < 0 ? '' : prefix.slice(0, slash));
  const keys = fs.existsSync(start)
    ? fs.readdirSync(start, { recursive: true })
        .filter((f) => f.endsWith(objectSuffix))
        .map((f) => path.relative(bucketPath, path.join(start, f)).split(path.sep).join('/').slice(0, -objectSuffix.length))
        .filter((key) => key.startsWith(prefix))
    : [];
  const commonPrefixes = new Set();
  const direct = [];
  for (const key of keys) {
    const idx = key.slice(prefix.length).indexOf(delimiter);
    if (idx === -1) direct.push(key);
    else commonPrefixes.add(key.slice(0, prefix.length + idx + delimiter.length));
  }
  const objects = await Promise.all(direct.sort().map(async (key) => new S3Object(bucket, key, null, await this.getMetadata(bucket, key))));
  return { objects, commonPrefixes: [...commonPrefixes].sort(), isTruncated: false };
};

// s3rver reads a bucket, its bucket-level configuration (CORS, website) and an object's metadata (two files and
// a stat) from disk on every request. All of them change only through the API, so they are kept in memory and
// forgotten when the API changes them: the emulator's own file reads should not be what a client's many
// concurrent requests measure. (Files changed behind s3rver's back are not seen; nothing here does that.)
const knownBuckets = new Map();
const configs = new Map();
const metadata = new Map();
const forgetObject = (bucket, key) => metadata.delete(`${bucket}/${key}`);
const forget = (bucket) => {
  knownBuckets.delete(bucket);
  for (const cache of [configs, metadata]) {
    for (const k of cache.keys()) if (k.startsWith(`${bucket}/`)) cache.delete(k);
  }
};
const store = FilesystemStore.prototype;
const { getBucket, putBucket, deleteBucket, getSubresource, putSubresource, deleteSubresource } = store;
const { getMetadata, getObject } = store;
store.getMetadata = async function cachedGetMetadata(bucket, key) {
  const id = `${bucket}/${key}`;
  if (!metadata.has(id)) metadata.set(id, await getMetadata.call(this, bucket, key));
  return { ...metadata.get(id) };
};
// Every write of an object forgets its metadata before and after, so a read during the write caches nothing stale.
const objectWrites = {
  putMetadata: (bucket, key) => [bucket, key],
  putObject: (object) => [object.bucket, object.key],
  copyObject: (srcBucket, srcKey, destBucket, destKey) => [destBucket, destKey],
  deleteObject: (bucket, key) => [bucket, key],
};
for (const [name, written] of Object.entries(objectWrites)) {
  const original = store[name];
  store[name] = async function forgetful(...args) {
    forgetObject(...written(...args));
    try {
      return await original.apply(this, args);
    } finally {
      forgetObject(...written(...args));
    }
  };
}
// s3rver answers a range on an empty object with a Content-Length of 1 and no byte; S3 answers 416 InvalidRange.
store.getObject = async function emptyAwareGetObject(bucket, key, options) {
  if (options && options.start !== undefined) {
    const found = await this.getMetadata(bucket, key).catch((err) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (found && Number(found['content-length']) === 0) {
      const object = new S3Object(bucket, key, null, found);
      object.range = { start: options.start, end: options.end ?? 0 };
      return object;
    }
  }
  return getObject.call(this, bucket, key, options);
};
store.getBucket = async function cachedGetBucket(bucket) {
  if (!knownBuckets.has(bucket)) knownBuckets.set(bucket, await getBucket.call(this, bucket));
  return knownBuckets.get(bucket);
};
store.putBucket = async function forgetfulPutBucket(bucket) {
  forget(bucket);
  return putBucket.call(this, bucket);
};
store.deleteBucket = async function forgetfulDeleteBucket(bucket) {
  forget(bucket);
  return deleteBucket.call(this, bucket);
};
store.getSubresource = async function cachedGetSubresource(bucket, key, type) {
  if (key) return getSubresource.call(this, bucket, key, type);
  const id = `${bucket}/${type}`;
  if (!configs.has(id)) configs.set(id, await getSubresource.call(this, bucket, key, type));
  return configs.get(id);
};
store.putSubresource = async function forgetfulPutSubresource(bucket, key, resource) {
  forget(bucket);
  return putSubresource.call(this, bucket, key, resource);
};
store.deleteSubresource = async function forgetfulDeleteSubresource(bucket, key, type) {
  forget(bucket);
  return deleteSubresource.call(this, bucket, key, type);
};

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const buckets = args.flatMap((a, i) => (a === '--bucket' ? [args[i + 1]] : []));
const directory = option('--dir');
const latency = Number(option('--latency-ms', '0'));
const port = Number(option('--port', '0'));
if (!directory || buckets.length === 0) {
  console.error('usage: node serve.mjs --dir DIR --bucket NAME [--bucket NAME...] [--latency-ms N] [--port P] [--restore-delay-ms N] [--ignore-optional-attributes]');
  process.exit(2);
}

const s3 = new S3rver({ silent: !process.env.S3RVER_VERBOSE, directory, configureBuckets: buckets.map((name) => ({ name })) });
await s3.configureBuckets();
const plain = s3.callback();
// s3rver ignores If-Match / If-None-Match on PUT; S3 answers 412 PreconditionFailed when the object's ETag differs
// (If-Match) or the object exists (If-None-Match: *). Checked here, one conditional PUT per key at a time, so two
// writers racing on one key see what they would see on S3: one wins, the other gets 412.
const writing = new Map();
const preconditionFailed = (res) => {
  res.writeHead(412, { 'Content-Type': 'application/xml' });
  res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-Match</Condition></Error>');
};
// S3 reads are atomic too: a GET sees the old object or the new one, never a mix. s3rver rewrites the file in place,
// so a read of a key waits while a conditional PUT writes it, and that PUT waits for the reads already streaming.
const reading = new Map();
const finished = (res) => new Promise((resolve) => res.on('close', resolve));
const serve = async (req, res) => {
  const ifMatch = req.headers['if-match'];
  const ifNoneMatch = req.headers['if-none-match'];
  const [, bucket, ...rest] = decodeURIComponent(new URL(req.url, 'http://localhost').pathname).split('/');
  const id = `${bucket}/${rest.join('/')}`;
  if ((req.method === 'GET' || req.method === 'HEAD') && rest.join('/') !== '') {
    while (writing.has(id)) await writing.get(id);
    const readers = reading.get(id) ?? new Set();
    reading.set(id, readers);
    const done = finished(res);
    readers.add(done);
    done.then(() => {
      readers.delete(done);
      if (readers.size === 0 && reading.get(id) === readers) reading.delete(id);
    });
    return plain(req, res);
  }
  if (req.method !== 'PUT' || (!ifMatch && !ifNoneMatch) || req.headers['x-amz-copy-source']) {
    return plain(req, res);
  }
  while (writing.has(id)) await writing.get(id);
  let release;
  writing.set(id, new Promise((resolve) => { release = resolve; }));
  res.on('close', () => {
    writing.delete(id);
    release();
  });
  await Promise.all([...(reading.get(id) ?? [])]);
  const found = await s3.store.getMetadata(bucket, rest.join('/')).catch(() => null);
  const etag = found && found.etag ? found.etag.replace(/"/g, '') : null;
  if ((ifNoneMatch === '*' && etag) || (ifMatch && ifMatch.replace(/"/g, '') !== etag)) {
    req.resume();
    return preconditionFailed(res);
  }
  return plain(req, res);
};
const server = http.createServer(latency > 0 ? (req, res) => setTimeout(() => serve(req, res), latency) : serve);
server.keepAliveTimeout = 60000;
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
console.log(`READY http://127.0.0.1:${server.address().port}`);
const stop = () => {
  server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
