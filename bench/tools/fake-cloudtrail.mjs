// The few CloudTrail and Organizations API calls `aws cloudtrail validate-logs` makes, answered from a
// sample corpus, so the AWS CLI can be measured against the same S3-compatible server as `auditinfra verify`.
//   node fake-cloudtrail.mjs --keys public-keys.json --bucket B --prefix P --trail NAME --home-region R --management-account ID --org-id o-...
// Prints `READY <endpoint>`; point the CLI at it with AWS_ENDPOINT_URL_CLOUDTRAIL and AWS_ENDPOINT_URL_ORGANIZATIONS
// (or --endpoint-url). With --log-requests, one line per call on standard output: `REQUEST <X-Amz-Target> <JSON body>`.
// ListPublicKeys answers as CloudTrail does: the keys valid at some time between StartTime (default: now)
// and EndTime (default: now), so a caller that leaves out the span gets only today's key.
// `--fail CODE` answers every call with that error (e.g. AccessDeniedException), as a denied caller sees.
import fs from 'node:fs';
import http from 'node:http';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const keys = JSON.parse(fs.readFileSync(option('--keys'), 'utf8')).PublicKeyList;
const bucket = option('--bucket');
const prefix = option('--prefix', '');
const trail = option('--trail');
const home = option('--home-region', 'us-east-1');
const management = option('--management-account');
const orgId = option('--org-id');
const arn = `arn:aws:cloudtrail:${home}:${management}:trail/${trail}`;
const fail = option('--fail');
const logRequests = args.includes('--log-requests');
const seconds = (text) => Date.parse(text) / 1000;

const answers = {
  'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails': () => ({
    trailList: [{
      Name: trail, S3BucketName: bucket, ...(prefix ? { S3KeyPrefix: prefix } : {}), IsOrganizationTrail: true,
      IsMultiRegionTrail: true, HomeRegion: home, TrailARN: arn, LogFileValidationEnabled: true,
    }],
  }),
  'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListPublicKeys': (request) => ({
    PublicKeyList: keys.filter((k) => {
      const now = Date.now() / 1000;
      const from = request.StartTime ?? now;
      const to = request.EndTime ?? now;
      return seconds(k.ValidityStartTime) <= to && seconds(k.ValidityEndTime) >= from;
    }).map((k) => ({
      Value: k.Value, Fingerprint: k.Fingerprint,
      ValidityStartTime: seconds(k.ValidityStartTime), ValidityEndTime: seconds(k.ValidityEndTime),
    })),
  }),
  'AWSOrganizationsV20161128.DescribeOrganization': () => ({
    Organization: { Id: orgId, MasterAccountId: management, FeatureSet: 'ALL' },
  }),
};

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const target = String(req.headers['x-amz-target']);
    const body = Buffer.concat(chunks).toString('utf8') || '{}';
    if (logRequests) console.log(`REQUEST ${target} ${body.replace(/[\r\n]+/g, ' ')}`);
    const answer = answers[target];
    const error = fail ? { __type: fail, message: `User is not authorized to perform: ${target.split('.').pop()}` }
      : answer ? null : { __type: 'UnknownOperationException', message: target };
    res.writeHead(error ? 400 : 200, { 'Content-Type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(error ?? answer(JSON.parse(body))));
  });
});
server.listen(0, '127.0.0.1', () => console.log(`READY http://127.0.0.1:${server.address().port} ${arn}`));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
