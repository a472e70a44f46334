// Starts s3rver on loopback (a fresh directory, the buckets named on the command line) and, with
// --latency-ms N, a proxy in front of it that holds every request N ms before forwarding it, as a
// distant S3 region would. Prints one line `READY <endpoint>` when both listen; stops on SIGTERM or
// when its standard input closes, so a test that dies takes the server with it. (s3rver's listing
// continuation tokens use DES, which Node 17+ offers only with --openssl-legacy-provider.)
//   node --openssl-legacy-provider serve.mjs --dir DIR --bucket NAME [--bucket NAME...] [--latency-ms 20] [--port 0]
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import S3rver from 's3rver';

// s3rver 3.7.1 finds a delimiter listing's common prefixes only one directory below the prefix (it stops
// walking deeper), where S3 groups every key below it. Listings with a delimiter are answered here as S3 does.
const require = createRequire(import.meta.url);
const FilesystemStore = require('s3rver/lib/stores/filesystem.js');
const S3Object = require('s3rver/lib/models/object.js');
const objectSuffix = '._S3rver_object';
const listWithoutDelimiter = FilesystemStore.prototype.listObjects;
FilesystemStore.prototype.listObjects = async function listObjects(bucket, options) {
  const { delimiter = '', prefix = '' } = options;
  if (!delimiter) {
    return listWithoutDelimiter.call(this, bucket, options);
  }
  const bucketPath = this.getBucketPath(bucket);
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
  console.error('usage: node serve.mjs --dir DIR --bucket NAME [--bucket NAME...] [--latency-ms N] [--port P]');
  process.exit(2);
}

const server = new S3rver({
  address: '127.0.0.1',
  port: latency > 0 ? 0 : port,
  silent: !process.env.S3RVER_VERBOSE,
  directory,
  configureBuckets: buckets.map((name) => ({ name })),
});
const { port: s3Port } = await server.run();
let endpoint = `http://127.0.0.1:${s3Port}`;
let proxy;
if (latency > 0) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  proxy = http.createServer((req, res) => {
    setTimeout(() => {
      const upstream = http.request(
        { host: '127.0.0.1', port: s3Port, method: req.method, path: req.url, headers: req.headers, agent },
        (reply) => {
          res.writeHead(reply.statusCode, reply.headers);
          reply.pipe(res);
        },
      );
      upstream.on('error', (e) => {
        res.writeHead(502);
        res.end(String(e));
      });
      req.pipe(upstream);
    }, latency);
  });
  proxy.keepAliveTimeout = 60000;
  await new Promise((resolve) => proxy.listen(port, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${proxy.address().port}`;
}

console.log(`READY ${endpoint}`);
const stop = async () => {
  proxy?.close();
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
