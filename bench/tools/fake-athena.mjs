// A small Athena endpoint answering the AWS CLI's JSON 1.1 calls (StartQueryExecution, GetQueryExecution,
// GetQueryResults, StopQueryExecution) with canned rows: it runs no SQL, it records it.
//   node fake-athena.mjs --answers answers.json [--polls N] [--fail REASON] [--never-finish] [--page-size N] [--log-requests]
// answers.json: [{"match": "text in the SQL", "columns": [{"Name": "c", "Type": "varchar"}], "rows": [["v", null]]}];
// the first answer whose text the query contains is its result (null values come back as Athena sends NULL: {}).
// A query is QUEUED, then RUNNING for N polls (default 2), then SUCCEEDED, or FAILED with --fail REASON;
// with --never-finish it runs until StopQueryExecution, which makes it CANCELLED.
// Prints `READY <endpoint>`; with --log-requests, one line per call: `REQUEST <X-Amz-Target> <JSON body>`.
import fs from 'node:fs';
import http from 'node:http';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const answers = JSON.parse(fs.readFileSync(option('--answers'), 'utf8'));
const polls = Number(option('--polls', '2'));
const fail = option('--fail');
const neverFinish = args.includes('--never-finish');
const pageSize = Number(option('--page-size', '1000'));
const logRequests = args.includes('--log-requests');

const executions = new Map();
let next = 1;

const error = (type, message) => ({ status: 400, body: { __type: type, Message: message } });

const operations = {
  StartQueryExecution: (request) => {
    if (!request.QueryString || !request.WorkGroup) {
      return error('InvalidRequestException', 'QueryString and WorkGroup are required');
    }
    const id = `00000000-0000-4000-8000-${String(next++).padStart(12, '0')}`;
    const answer = answers.find((a) => request.QueryString.includes(a.match));
    executions.set(id, { request, answer, polls: 0, stopped: false });
    return { body: { QueryExecutionId: id } };
  },
  GetQueryExecution: (request) => {
    const execution = executions.get(request.QueryExecutionId);
    if (!execution) {
      return error('InvalidRequestException', `QueryExecution ${request.QueryExecutionId} was not found`);
    }
    execution.polls += 1;
    let state = execution.polls === 1 ? 'QUEUED' : 'RUNNING';
    let reason;
    if (execution.stopped) {
      state = 'CANCELLED';
      reason = 'Query cancelled by user';
    } else if (!neverFinish && execution.polls > polls) {
      if (fail) {
        state = 'FAILED';
        reason = fail;
      } else if (!execution.answer) {
        state = 'FAILED';
        reason = 'fake-athena: no canned answer matches this query';
      } else {
        state = 'SUCCEEDED';
      }
    }
    return {
      body: {
        QueryExecution: {
          QueryExecutionId: request.QueryExecutionId,
          Query: execution.request.QueryString,
          WorkGroup: execution.request.WorkGroup,
          QueryExecutionContext: execution.request.QueryExecutionContext,
          Status: { State: state, ...(reason ? { StateChangeReason: reason } : {}) },
          Statistics: { DataScannedInBytes: 1048576 * execution.polls, TotalExecutionTimeInMillis: 100 * execution.polls },
        },
      },
    };
  },
  GetQueryResults: (request) => {
    const execution = executions.get(request.QueryExecutionId);
    if (!execution || !execution.answer) {
      return error('InvalidRequestException', `QueryExecution ${request.QueryExecutionId} has no results`);
    }
    const { columns, rows } = execution.answer;
    // The first row of a SELECT's results is the header, as Athena sends it.
    const all = [columns.map((c) => c.Name), ...rows].map((row) => ({
      Data: row.map((value) => (value === null ? {} : { VarCharValue: String(value) })),
    }));
    const start = Number(request.NextToken ?? '0');
    const size = Math.min(request.MaxResults ?? 1000, pageSize);
    const page = all.slice(start, start + size);
    return {
      body: {
        ResultSet: {
          Rows: page,
          ResultSetMetadata: {
            ColumnInfo: columns.map((c) => ({ CatalogName: 'hive', SchemaName: '', TableName: '', Name: c.Name, Label: c.Name, Type: c.Type, Precision: 0, Scale: 0, Nullable: 'UNKNOWN', CaseSensitive: true })),
          },
        },
        ...(start + size < all.length ? { NextToken: String(start + size) } : {}),
      },
    };
  },
  StopQueryExecution: (request) => {
    const execution = executions.get(request.QueryExecutionId);
    if (execution) {
      execution.stopped = true;
    }
    return { body: {} };
  },
};

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const target = String(req.headers['x-amz-target']);
    const body = Buffer.concat(chunks).toString('utf8') || '{}';
    if (logRequests) console.log(`REQUEST ${target} ${body.replace(/[\r\n]+/g, ' ')}`);
    const operation = operations[target.replace(/^AmazonAthena\./, '')];
    const answer = operation ? operation(JSON.parse(body)) : error('UnknownOperationException', target);
    res.writeHead(answer.status ?? 200, { 'Content-Type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(answer.body));
  });
});
server.listen(0, '127.0.0.1', () => console.log(`READY http://127.0.0.1:${server.address().port}`));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
