// record-api's authenticated create-record (POST /me/records), the Node.js peer: verify
// the RS256 access token (jose, against the public key read from Secrets Manager at init),
// validate the body, write the record and its activity entry in one transaction, answer
// 201 with the record. Problems are application/problem+json, as ours.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { importSPKI, jwtVerify } from 'jose';
import { ulid } from 'ulid';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const RACES = env('RACES_TABLE');
const USERS = env('USERS_TABLE');
const ACTIVITY = env('ACTIVITY_TABLE');
const ISSUER = env('TOKEN_ISSUER');
const AUDIENCE = env('TOKEN_AUDIENCE');
const RETENTION_DAYS = Number(process.env.ACTIVITY_RETENTION_DAYS ?? 400);

const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const secrets = new SecretsManagerClient({});
// The key read and the DynamoDB warm-up at once, as ours does.
const [secret] = await Promise.all([
  secrets.send(new GetSecretValueCommand({ SecretId: env('VERIFY_KEY_SECRET') })),
  db
    .send(new GetCommand({ TableName: USERS, Key: { pk: 'WARMUP', sk: 'WARMUP' }, ProjectionExpression: 'pk' }))
    .catch((error) => console.warn(JSON.stringify({ level: 'WARN', message: 'warm-up failed', error: String(error) }))),
]);
const KEY = await importSPKI(secret.SecretString, 'RS256');

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DURATION = /^(\d+):([0-5]\d):([0-5]\d)$/;

function problem(status, title, extra = {}) {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/problem+json' },
    body: JSON.stringify({ type: 'about:blank', title, status, ...extra }),
  };
}

async function caller(event) {
  const header = event.headers?.authorization ?? '';
  const token = header.startsWith('Bearer ') ? header.slice(7) : null;
  if (!token) return null;
  try {
    const { payload } = await jwtVerify(token, KEY, {
      algorithms: ['RS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
      clockTolerance: 30,
      requiredClaims: ['exp', 'iat', 'sub', 'jti'],
    });
    if (payload.typ !== 'access' || !ULID.test(payload.sub) || !ULID.test(payload.jti)) return null;
    if (!['runner', 'organizer', 'admin'].includes(payload.role)) return null;
    return { id: payload.sub, role: payload.role };
  } catch {
    return null;
  }
}

function validDate(text) {
  const m = DATE.exec(text ?? '');
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

function seconds(duration) {
  if (Number.isInteger(duration)) return duration > 0 && duration < 360000 ? duration : null;
  const m = DURATION.exec(typeof duration === 'string' ? duration : '');
  if (!m) return null;
  const total = +m[1] * 3600 + +m[2] * 60 + +m[3];
  return total > 0 && total < 360000 ? total : null;
}

function validate(body) {
  const errors = [];
  const field = (name, detail) => errors.push({ field: name, detail });
  if (body.kind === undefined || body.kind === null) field('kind', 'is required');
  else if (!['training', 'race'].includes(body.kind)) field('kind', 'must be "training" or "race"');
  if (body.date === undefined || body.date === null) field('date', 'is required');
  else if (!validDate(body.date)) field('date', 'must be a date (YYYY-MM-DD)');
  if (body.distance_m === undefined || body.distance_m === null) field('distance_m', 'is required');
  else if (!Number.isInteger(body.distance_m) || body.distance_m < 1 || body.distance_m > 1_000_000)
    field('distance_m', 'must be between 1 and 1000000');
  const duration = body.duration === undefined || body.duration === null ? undefined : seconds(body.duration);
  if (body.duration === undefined || body.duration === null) field('duration', 'is required');
  else if (duration === null) field('duration', 'must be h:mm:ss');
  const notes = body.notes ?? '';
  if (typeof notes !== 'string' || [...notes].length > 2000) field('notes', 'must be at most 2000 characters');
  return errors.length
    ? { errors }
    : { fields: { kind: body.kind, date: body.date, distance_m: body.distance_m, duration_seconds: duration, notes: notes.trim() } };
}

export async function handler(event) {
  if (event.routeKey !== 'POST /me/records') return problem(404, 'Not Found');
  const who = await caller(event);
  if (!who) return problem(401, 'Unauthorized');
  if (who.role !== 'runner') return problem(403, 'Forbidden', { detail: 'Only a runner keeps records.' });
  let body;
  try {
    body = JSON.parse(event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : event.body ?? '');
  } catch {
    return problem(400, 'Bad Request', { detail: 'the body is not JSON' });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return problem(400, 'Bad Request');
  const { errors, fields } = validate(body);
  if (errors) return problem(422, 'Unprocessable Entity', { errors });

  const now = new Date();
  const at = now.toISOString();
  const record = { id: ulid(), runner_id: who.id, ...fields, created_at: at, updated_at: at };
  const entry = ulid();
  await db.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: RACES,
            Item: { pk: `RUNNER#${who.id}`, sk: `RECORD#${record.id}`, ...record },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Put: {
            TableName: ACTIVITY,
            Item: {
              pk: `USER#${who.id}`,
              sk: `LOG#${entry}`,
              id: entry,
              actor: who.id,
              kind: 'record_created',
              at,
              origin: {
                ip: event.requestContext?.http?.sourceIp,
                user_agent: event.requestContext?.http?.userAgent,
                correlation_id: event.headers?.['x-correlation-id'] ?? event.requestContext?.requestId,
              },
              details: { record_id: record.id },
              expires_at: Math.floor(now.getTime() / 1000) + RETENTION_DAYS * 86400,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ],
    }),
  );
  console.log(JSON.stringify({ level: 'INFO', message: 'record created', record_id: record.id, runner_id: who.id }));
  return {
    statusCode: 201,
    headers: { 'content-type': 'application/json', location: `/me/records/${record.id}` },
    body: JSON.stringify(record),
  };
}
