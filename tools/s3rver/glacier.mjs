// Archive storage classes for the emulator, as S3 behaves for them, so the CLI's Glacier path can be tested:
// - PutObject keeps x-amz-storage-class (GLACIER_IR added to what s3rver accepts) and ListObjectsV2 returns it;
// - GET of a GLACIER or DEEP_ARCHIVE object that is not restored is 403 InvalidObjectState (HEAD still answers);
// - POST ?restore (RestoreRequest: Days, GlacierJobParameters.Tier) is 202 the first time, 409
//   RestoreAlreadyInProgress while the restore runs, 200 once restored (the expiry is moved, as S3 does);
// - HEAD and GET carry x-amz-restore: ongoing-request="true", or ongoing-request="false", expiry-date="...";
// - a restore completes after restoreDelayMs (S3RVER_RESTORE_DELAY_MS or --restore-delay-ms; S3 takes minutes to hours).
// Every accepted restore is printed on standard error as `RESTORE <bucket>/<key> <tier> <days> <status>`, so a test
// can count what a client asked for. Restores live in memory: a restarted server has none in progress.
// Call before s3rver's routes are loaded (before require('s3rver')): its route table reads the query methods it knows once.

const archived = new Set(['GLACIER', 'DEEP_ARCHIVE']);
const tiers = new Set(['Expedited', 'Standard', 'Bulk']);
// A RestoreRequest is a few hundred bytes; a bigger body is not one.
const maxRestoreBody = 64 * 1024;

export function installGlacier(require, restoreDelayMs) {
  const lib = (p) => require(require.resolve(`s3rver/lib/${p}`));
  const S3Object = lib('models/object.js');
  const S3Error = lib('models/error.js');
  const objectCtrl = lib('controllers/object.js');
  const bucketCtrl = lib('controllers/bucket.js');
  if (!S3Object.STORAGE_CLASSES.includes('GLACIER_IR')) S3Object.STORAGE_CLASSES.push('GLACIER_IR');
  if (!objectCtrl.METHODS.includes('restore')) objectCtrl.METHODS.push('restore');

  // bucket/key -> { tier, days, readyAt (ms), expiry (Date) }
  const restores = new Map();
  const classOf = (metadata) => metadata['x-amz-storage-class'] || 'STANDARD';
  const isReady = (r) => r !== undefined && Date.now() >= r.readyAt;
  const restoreHeader = (r) =>
    isReady(r) ? `ongoing-request="false", expiry-date="${r.expiry.toUTCString()}"` : 'ongoing-request="true"';
  // S3 keeps a restored copy until midnight UTC after `days` days from completion.
  const expiryAfter = (readyAt, days) => {
    const d = new Date(readyAt + days * 86400000);
    return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1));
  };
  const metadataOf = async (ctx) => {
    try {
      return await ctx.store.getMetadata(ctx.params.bucket, ctx.params.key);
    } catch (err) {
      if (err.code === 'ENOENT') return null;
      throw err;
    }
  };

  const getObject = objectCtrl.getObject;
  objectCtrl.getObject = async function archiveAwareGetObject(ctx) {
    const metadata = await metadataOf(ctx);
    const restore = restores.get(`${ctx.params.bucket}/${ctx.params.key}`);
    if (metadata && ctx.method !== 'HEAD' && archived.has(classOf(metadata)) && !isReady(restore)) {
      throw new S3Error('InvalidObjectState', "The operation is not valid for the object's storage class", {
        StorageClass: classOf(metadata),
      });
    }

    await getObject(ctx);
    if (restore !== undefined && metadata && archived.has(classOf(metadata))) ctx.set('x-amz-restore', restoreHeader(restore));
  };

  const getBucket = bucketCtrl.getBucket;
  bucketCtrl.getBucket = async function classAwareGetBucket(ctx) {
    await getBucket(ctx);
    const contents = ctx.body?.ListBucketResult?.Contents ?? [];
    await Promise.all(
      contents.map(async (entry) => {
        entry.StorageClass = classOf(await ctx.store.getMetadata(ctx.params.bucket, entry.Key));
      }),
    );
  };

  async function restoreObject(ctx) {
    const metadata = await metadataOf(ctx);
    if (!metadata) throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: ctx.params.key });
    const body = await new Promise((resolve, reject) => {
      let text = '';
      ctx.req.on('data', (chunk) => {
        text += chunk.toString('utf8');
        if (text.length > maxRestoreBody) reject(new S3Error('MalformedXML', 'The RestoreRequest is too large.'));
      });
      ctx.req.on('end', () => resolve(text));
      ctx.req.on('error', reject);
    });
    const tag = (name) => {
      const m = new RegExp(`<${name}>\\s*([^<]*?)\\s*</${name}>`).exec(body);
      return m ? m[1] : undefined;
    };
    if (!/<RestoreRequest[\s>]/.test(body)) {
      throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
    }
    const storageClass = classOf(metadata);
    if (!archived.has(storageClass)) {
      throw new S3Error('InvalidObjectState', "Restore is not allowed for the object's current storage class", { StorageClass: storageClass });
    }
    const days = Number(tag('Days'));
    if (!Number.isInteger(days) || days < 1) {
      throw new S3Error('MalformedXML', 'Days must be a whole number of 1 or more.');
    }
    const tier = tag('Tier') ?? 'Standard';
    if (!tiers.has(tier)) throw new S3Error('MalformedXML', `Unknown tier ${tier}.`);
    if (tier === 'Expedited' && storageClass === 'DEEP_ARCHIVE') {
      throw new S3Error('InvalidArgument', 'Expedited retrieval is not available for the DEEP_ARCHIVE storage class.', {
        ArgumentName: 'Tier',
        ArgumentValue: tier,
      });
    }

    const id = `${ctx.params.bucket}/${ctx.params.key}`;
    const current = restores.get(id);
    let status;
    if (current === undefined) {
      const readyAt = Date.now() + restoreDelayMs;
      restores.set(id, { tier, days, readyAt, expiry: expiryAfter(readyAt, days) });
      status = 202;
    } else if (!isReady(current)) {
      console.error(`RESTORE ${id} ${tier} ${days} 409`);
      throw new S3Error('RestoreAlreadyInProgress', 'Object restore is already in progress');
    } else {
      current.expiry = expiryAfter(Date.now(), days);
      status = 200;
    }

    console.error(`RESTORE ${id} ${tier} ${days} ${status}`);
    ctx.status = status;
    ctx.body = '';
  }

  const router = lib('routes.js');
  const postObject = router.stack.find((layer) => layer.path === '/:bucket/:key+' && layer.methods.includes('POST'));
  if (!postObject) throw new Error("s3rver's object POST route was not found: its route table changed");
  const handler = postObject.stack[postObject.stack.length - 1];
  postObject.stack[postObject.stack.length - 1] = (ctx, next) =>
    ctx.params.queryMethod === 'restore' ? restoreObject(ctx) : handler(ctx, next);
}
