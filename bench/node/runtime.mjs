// A Lambda Runtime API loop for the Node.js peers, doing what the managed nodejs20.x
// runtime's client does: load the handler module named by _HANDLER from LAMBDA_TASK_ROOT
// (its top-level code is the function's init: clients, secrets, warm-up), report a failed
// load to /init/error, then GET /invocation/next, call the handler with the event and a
// context, and POST its result to /response or its exception to /error, forever.
//
// Why not the `aws-lambda-ric` package: its install compiles curl and aws-lambda-cpp from
// bundled sources with node-gyp and cmake on every `npm ci` (minutes of a shared machine's
// CPU, and a C toolchain besides), while the protocol it speaks is these few HTTP calls.
// One keep-alive connection to the Runtime API, as the native client keeps.

import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const BASE = '/2018-06-01/runtime';

function call(method, urlPath, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host, port, method, path: BASE + urlPath, agent, headers },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    if (body !== undefined) request.end(body);
    else request.end();
  });
}

function errorBody(error) {
  return JSON.stringify({
    errorType: error?.name ?? 'Error',
    errorMessage: error?.message ?? String(error),
    trace: String(error?.stack ?? '').split('\n'),
  });
}

async function load() {
  const [module, name] = (process.env._HANDLER ?? '').split('.');
  const file = path.join(process.env.LAMBDA_TASK_ROOT ?? '.', `${module}.mjs`);
  const handler = (await import(pathToFileURL(file).href))[name];
  if (typeof handler !== 'function') throw new Error(`${process.env._HANDLER} is not a function`);
  return handler;
}

let handler;
try {
  handler = await load();
} catch (error) {
  console.error('init failed', error);
  await call('POST', '/init/error', errorBody(error), {
    'content-type': 'application/json',
    'lambda-runtime-function-error-type': 'Runtime.ImportModuleError',
  });
  process.exit(1);
}

for (;;) {
  const next = await call('GET', '/invocation/next');
  const id = next.headers['lambda-runtime-aws-request-id'];
  const deadline = Number(next.headers['lambda-runtime-deadline-ms']);
  process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'] ?? '';
  const context = {
    awsRequestId: id,
    invokedFunctionArn: next.headers['lambda-runtime-invoked-function-arn'],
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
  try {
    const result = await handler(JSON.parse(next.body), context);
    await call('POST', `/invocation/${id}/response`, JSON.stringify(result ?? null), {
      'content-type': 'application/json',
    });
  } catch (error) {
    console.error('invocation failed', error);
    await call('POST', `/invocation/${id}/error`, errorBody(error), {
      'content-type': 'application/json',
      'lambda-runtime-function-error-type': 'Unhandled',
    });
  }
}
