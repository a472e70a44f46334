// The few CloudTrail and Organizations API calls `aws cloudtrail validate-logs` makes, answered from a
// sample corpus, so the AWS CLI can be measured against the same S3-compatible server as `auditinfra verify`.
//   node fake-cloudtrail.mjs --keys public-keys.json --bucket B --prefix P --trail NAME --home-region R --management-account ID --org-id o-...
// Prints `READY <endpoint>`; point the CLI at it with AWS_ENDPOINT_URL_CLOUDTRAIL and AWS_ENDPOINT_URL_ORGANIZATIONS.
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
const seconds = (text) => Date.parse(text) / 1000;

const answers = {
  'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails': () => ({
    trailList: [{
      Name: trail, S3BucketName: bucket, ...(prefix ? { S3KeyPrefix: prefix } : {}), IsOrganizationTrail: true,
      IsMultiRegionTrail: true, HomeRegion: home, TrailARN: arn, LogFileValidationEnabled: true,
    }],
  }),
  'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListPublicKeys': () => ({
    PublicKeyList: keys.map((k) => ({
      Value: k.Value, Fingerprint: k.Fingerprint,
      ValidityStartTime: seconds(k.ValidityStartTime), ValidityEndTime: seconds(k.ValidityEndTime),
    })),
  }),
  'AWSOrganizationsV20161128.DescribeOrganization': () => ({
    Organization: { Id: orgId, MasterAccountId: management, FeatureSet: 'ALL' },
  }),
};

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const answer = answers[req.headers['x-amz-target']];
    res.writeHead(answer ? 200 : 400, { 'Content-Type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(answer ? answer() : { __type: 'UnknownOperationException', message: String(req.headers['x-amz-target']) }));
  });
});
server.listen(0, '127.0.0.1', () => console.log(`READY http://127.0.0.1:${server.address().port} ${arn}`));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
