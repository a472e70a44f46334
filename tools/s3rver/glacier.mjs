// Archive storage classes for the emulator, as S3 behaves for them, so the CLI's Glacier path can be tested:
// - PutObject keeps x-amz-storage-class (GLACIER_IR added to what s3rver accepts) and ListObjectsV2 returns it;
// - GET of a GLACIER or DEEP_ARCHIVE object that is not restored is 403 InvalidObjectState (HEAD still answers);
// - POST ?restore (RestoreRequest: Days, GlacierJobParameters.Tier; Standard when no tier is given) is 202 the first time,
//   409 RestoreAlreadyInProgress while the restore runs, 200 once restored (the expiry is moved, as S3 does);
// - HEAD and GET carry x-amz-restore: ongoing-request="true", or ongoing-request="false", expiry-date="...";
// - ListObjectsV2 with `x-amz-optional-object-attributes: RestoreStatus` gives each object with a restore its RestoreStatus
//   (IsRestoreInProgress, RestoreExpiryDate), and none for an object never restored, as S3 does; started with
//   ignoreOptionalAttributes (--ignore-optional-attributes) it ignores the header, as endpoints without the feature do;
// - Intelligent-Tiering archive tiers: an INTELLIGENT_TIERING object PUT with the (emulator-only) header
//   `x-s3rver-archive-status: ARCHIVE_ACCESS|DEEP_ARCHIVE_ACCESS` is in that tier: GET is 403 InvalidObjectState (with
//   StorageClass and AccessTier), HEAD carries x-amz-archive-status; RestoreObject takes no Days (400 InvalidArgument with
//   them, as S3 answers), and once done the object is back in Frequent Access for good (no archive status, no expiry);
// - a restore completes after restoreDelayMs (S3RVER_RESTORE_DELAY_MS or --restore-delay-ms; S3 takes minutes to hours).
// Every accepted restore is printed on standard error as `RESTORE <bucket>/<key> <tier> <days or -> <status>`, and every HEAD
// of an object in an archive-capable class as `HEAD <bucket>/<key>`, so a test can count what a client asked for. Restores
// and archive tiers live in memory: a restarted server has none.
// Call before s3rver's routes are loaded (before require('s3rver')): its route table reads the query methods it knows once.

const archived = new Set(['GLACIER', 'DEEP_ARCHIVE']);
const archiveTiers = new Set(['ARCHIVE_ACCESS', 'DEEP_ARCHIVE_ACCESS']);
const archiveStatusHeader = 'x-s3rver-archive-status';
const tiers = new Set(['Expedited', 'Standard', 'Bulk']);
// A RestoreRequest is a few hundred bytes; a bigger body is not one.
const maxRestoreBody = 64 * 1024;

export function installGlacier(require, restoreDelayMs, { ignoreOptionalAttributes = false } = {}) {
  const lib = (p) => require(require.resolve(`s3rver/lib/${p}`));
  const S3Object = lib('models/object.js');
  const S3Error = lib('models/error.js');
  const objectCtrl = lib('controllers/object.js');
  const bucketCtrl = lib('controllers/bucket.js');
  if (!S3Object.STORAGE_CLASSES.includes('GLACIER_IR')) S3Object.STORAGE_CLASSES.push('GLACIER_IR');
  if (!objectCtrl.METHODS.includes('restore')) objectCtrl.METHODS.push('restore');

  // bucket/key -> { tier, days, readyAt (ms), expiry (Date, null for Intelligent-Tiering) }
  const restores = new Map();
  // bucket/key -> ARCHIVE_ACCESS | DEEP_ARCHIVE_ACCESS, for INTELLIGENT_TIERING objects in an archive tier
  const tiered = new Map();
  const classOf = (metadata) => metadata['x-amz-storage-class'] || 'STANDARD';
  const isReady = (r) => r !== undefined && Date.now() >= r.readyAt;
  const restoreHeader = (r) =>
    !isReady(r) ? 'ongoing-request="true"'
    : r.expiry ? `ongoing-request="false", expiry-date="${r.expiry.toUTCString()}"` : 'ongoing-request="false"';
  // The archive tier an Intelligent-Tiering object is in now: none once its restore is done (back in Frequent Access).
  const tierOf = (id, metadata) =>
    metadata && classOf(metadata) === 'INTELLIGENT_TIERING' && tiered.has(id) && !isReady(restores.get(id)) ? tiered.get(id) : undefined;
  const restorable = (id, metadata) => archived.has(classOf(metadata)) || (classOf(metadata) === 'INTELLIGENT_TIERING' && tiered.has(id));
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

  const putObject = objectCtrl.putObject;
  objectCtrl.putObject = async function tierAwarePutObject(ctx) {
    const tier = ctx.get(archiveStatusHeader);
    if (tier && (!archiveTiers.has(tier) || ctx.get('x-amz-storage-class') !== 'INTELLIGENT_TIERING')) {
      throw new S3Error('InvalidArgument', `${archiveStatusHeader} takes ARCHIVE_ACCESS or DEEP_ARCHIVE_ACCESS, on an INTELLIGENT_TIERING object.`);
    }

    await putObject(ctx);
    // A new object has no restore and no archive tier but the one it is put in.
    const id = `${ctx.params.bucket}/${ctx.params.key}`;
    restores.delete(id);
    if (tier) tiered.set(id, tier);
    else tiered.delete(id);
  };

  const getObject = objectCtrl.getObject;
  objectCtrl.getObject = async function archiveAwareGetObject(ctx) {
    const metadata = await metadataOf(ctx);
    const id = `${ctx.params.bucket}/${ctx.params.key}`;
    const restore = restores.get(id);
    const tier = tierOf(id, metadata);
    if (ctx.method === 'HEAD' && metadata && (archived.has(classOf(metadata)) || classOf(metadata) === 'INTELLIGENT_TIERING')) {
      console.error(`HEAD ${id}`);
    }
    if (metadata && ctx.method !== 'HEAD' && archived.has(classOf(metadata)) && !isReady(restore)) {
      throw new S3Error('InvalidObjectState', "The operation is not valid for the object's storage class", {
        StorageClass: classOf(metadata),
      });
    }
    if (ctx.method !== 'HEAD' && tier) {
      throw new S3Error('InvalidObjectState', "The action is not valid for the object's access tier", {
        StorageClass: 'INTELLIGENT_TIERING',
        AccessTier: tier,
      });
    }

    await getObject(ctx);
    if (restore !== undefined && metadata && restorable(id, metadata)) ctx.set('x-amz-restore', restoreHeader(restore));
    if (tier) ctx.set('x-amz-archive-status', tier);
  };

  const getBucket = bucketCtrl.getBucket;
  bucketCtrl.getBucket = async function classAwareGetBucket(ctx) {
    await getBucket(ctx);
    const contents = ctx.body?.ListBucketResult?.Contents ?? [];
    const askedRestoreStatus =
      !ignoreOptionalAttributes && (ctx.get('x-amz-optional-object-attributes') || '').split(',').map((a) => a.trim()).includes('RestoreStatus');
    await Promise.all(
      contents.map(async (entry) => {
        entry.StorageClass = classOf(await ctx.store.getMetadata(ctx.params.bucket, entry.Key));
        const restore = restores.get(`${ctx.params.bucket}/${entry.Key}`);
        if (askedRestoreStatus && restore !== undefined) {
          entry.RestoreStatus = isReady(restore)
            ? { IsRestoreInProgress: 'false', RestoreExpiryDate: restore.expiry ? restore.expiry.toISOString() : undefined }
            : { IsRestoreInProgress: 'true' };
        }
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
    const id = `${ctx.params.bucket}/${ctx.params.key}`;
    const storageClass = classOf(metadata);
    const accessTier = tierOf(id, metadata);
    const intelligent = storageClass === 'INTELLIGENT_TIERING' && tiered.has(id);
    if (!archived.has(storageClass) && !intelligent) {
      throw new S3Error('InvalidObjectState', "Restore is not allowed for the object's current storage class", { StorageClass: storageClass });
    }
    const daysText = tag('Days');
    if (intelligent && daysText !== undefined) {
      // S3's answer (quoted in s3tools/s3cmd issue 1377); its Batch Operations guide: IT archive tiers have no restore expiry.
      throw new S3Error('InvalidArgument', 'INTELLIGENT_TIERING objects are not subject to restore expiry. Do not specify Days when restoring this object');
    }
    const days = intelligent ? undefined : Number(daysText);
    if (!intelligent && (!Number.isInteger(days) || days < 1)) {
      throw new S3Error('MalformedXML', 'Days must be a whole number of 1 or more.');
    }
    // A plain restore's tier is GlacierJobParameters/Tier (the top-level Tier element belongs to SELECT restores).
    const jobParameters = /<GlacierJobParameters>([\s\S]*?)<\/GlacierJobParameters>/.exec(body);
    const jobTier = jobParameters ? /<Tier>\s*([^<]*?)\s*<\/Tier>/.exec(jobParameters[1]) : null;
    const tier = jobTier ? jobTier[1] : 'Standard';
    if (!tiers.has(tier)) throw new S3Error('MalformedXML', `Unknown tier ${tier}.`);
    if (tier === 'Expedited' && (storageClass === 'DEEP_ARCHIVE' || tiered.get(id) === 'DEEP_ARCHIVE_ACCESS')) {
      throw new S3Error('InvalidArgument', `Expedited retrieval is not available for ${intelligent ? 'the DEEP_ARCHIVE_ACCESS tier' : 'the DEEP_ARCHIVE storage class'}.`, {
        ArgumentName: 'Tier',
        ArgumentValue: tier,
      });
    }

    const current = restores.get(id);
    const shownDays = days ?? '-';
    let status;
    if (intelligent && accessTier === undefined) {
      // Back in Frequent Access: nothing is archived to restore.
      throw new S3Error('InvalidObjectState', "Restore is not allowed for the object's current access tier", { StorageClass: storageClass });
    } else if (current === undefined) {
      const readyAt = Date.now() + restoreDelayMs;
      restores.set(id, { tier, days, readyAt, expiry: intelligent ? null : expiryAfter(readyAt, days) });
      status = 202;
    } else if (!isReady(current)) {
      console.error(`RESTORE ${id} ${tier} ${shownDays} 409`);
      throw new S3Error('RestoreAlreadyInProgress', 'Object restore is already in progress');
    } else {
      current.expiry = expiryAfter(Date.now(), days);
      status = 200;
    }

    console.error(`RESTORE ${id} ${tier} ${shownDays} ${status}`);
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
