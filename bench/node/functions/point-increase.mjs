// point-increase, the Node.js peer: each result event of an SQS batch is applied to its
// runner's points once per version (award item, profile total and a pending announcement
// in one conditional transaction), the new total is announced on points-events, and the
// pending announcement is then deleted. The messages of a batch are handled at once;
// failed ones are reported as partial batch failures.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { GetTopicAttributesCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ulid } from 'ulid';

const TABLE = process.env.USERS_TABLE;
const TOPIC = process.env.POINTS_EVENTS_TOPIC;
if (!TABLE || !TOPIC) throw new Error('USERS_TABLE and POINTS_EVENTS_TOPIC must be set');

const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const sns = new SNSClient({});
// Warm-up, as ours does: one DynamoDB read and one SNS call, together.
await Promise.all([
  db.send(new GetCommand({ TableName: TABLE, Key: { pk: 'WARMUP', sk: 'WARMUP' }, ProjectionExpression: 'pk' })),
  sns.send(new GetTopicAttributesCommand({ TopicArn: TOPIC })),
]).catch((error) => console.warn(JSON.stringify({ level: 'WARN', message: 'warm-up failed', error: String(error) })));

const RESULT_EVENTS = new Set(['result.recorded', 'result.corrected', 'result.removed']);
const ROUNDS = 5;

class Poison extends Error {}

const pendingKey = (pk, change) => ({
  pk,
  sk: `ANNOUNCE#${change.result_id}#${String(change.version).padStart(20, '0')}`,
});

async function total(pk) {
  const { Item } = await db.send(
    new GetCommand({ TableName: TABLE, Key: { pk, sk: 'PROFILE' }, ProjectionExpression: 'total_points', ConsistentRead: true }),
  );
  if (!Item) throw new Error('runner missing');
  return Item.total_points ?? 0;
}

/** Applies the change; returns { delta, total } when an announcement is owed, else null. */
async function apply(change, now) {
  const pk = `USER#${change.runner_id}`;
  for (let round = 0; round < ROUNDS; round += 1) {
    const { Item: stored } = await db.send(
      new GetCommand({ TableName: TABLE, Key: { pk, sk: `AWARD#${change.result_id}` }, ConsistentRead: true }),
    );
    if (stored && stored.version >= change.version) {
      // applied before: only its announcement can still be owed
      const { Item: owed } = await db.send(
        new GetCommand({ TableName: TABLE, Key: pendingKey(pk, change), ConsistentRead: true }),
      );
      return owed ? { delta: owed.delta, total: await total(pk) } : null;
    }
    const delta = change.points - (stored?.points ?? 0);
    const award = {
      pk,
      sk: `AWARD#${change.result_id}`,
      result_id: change.result_id,
      marathon_id: change.marathon_id,
      points: change.points,
      version: change.version,
      updated_at: now,
      delta,
      notified: true,
    };
    const items = [
      {
        Put: {
          TableName: TABLE,
          Item: award,
          ...(stored
            ? { ConditionExpression: 'version = :read', ExpressionAttributeValues: { ':read': stored.version } }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        },
      },
      {
        Update: {
          TableName: TABLE,
          Key: { pk, sk: 'PROFILE' },
          UpdateExpression: 'SET total_points = if_not_exists(total_points, :zero) + :delta',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':zero': 0, ':delta': delta },
        },
      },
    ];
    if (delta !== 0) {
      const item = { ...pendingKey(pk, change), result_id: change.result_id, version: change.version, delta, applied_at: now };
      items.push({ Put: { TableName: TABLE, Item: item } });
    }
    try {
      await db.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      const reasons = error.CancellationReasons?.map((r) => r.Code) ?? [];
      if (reasons[1] === 'ConditionalCheckFailed') throw new Error('runner missing');
      if (reasons[0] === 'ConditionalCheckFailed') continue; // changed since we read it
      throw error;
    }
    return delta === 0 ? null : { delta, total: await total(pk) };
  }
  throw new Error('the award kept changing');
}

async function message(record) {
  let envelope;
  try {
    envelope = JSON.parse(record.body);
  } catch (error) {
    throw new Poison(`undecodable body: ${error.message}`);
  }
  if (envelope?.schema !== 1 || !RESULT_EVENTS.has(envelope.type) || typeof envelope.data !== 'object') {
    throw new Poison('not a result event');
  }
  const change = envelope.data;
  const now = new Date().toISOString();
  const owed = await apply(change, now);
  if (!owed) return;
  const awarded = {
    schema: 1,
    id: ulid(),
    occurred_at: now,
    ...(envelope.correlation_id ? { correlation_id: envelope.correlation_id } : {}),
    type: 'points.awarded',
    data: {
      runner_id: change.runner_id,
      runner_name: change.runner_name,
      marathon_id: change.marathon_id,
      marathon_name: change.marathon_name,
      result_id: change.result_id,
      delta: owed.delta,
      total: owed.total,
      result_version: change.version,
    },
  };
  const attributes = { type: { DataType: 'String', StringValue: 'points.awarded' } };
  if (envelope.correlation_id) attributes.correlation_id = { DataType: 'String', StringValue: envelope.correlation_id };
  await sns.send(new PublishCommand({ TopicArn: TOPIC, Message: JSON.stringify(awarded), MessageAttributes: attributes }));
  await db
    .send(
      new DeleteCommand({
        TableName: TABLE,
        Key: pendingKey(`USER#${change.runner_id}`, change),
        ConditionExpression: 'attribute_exists(pk)',
      }),
    )
    .catch((error) => {
      if (error.name !== 'ConditionalCheckFailedException') throw error;
    });
}

export async function handler(event) {
  const outcomes = await Promise.allSettled(event.Records.map(message));
  const batchItemFailures = [];
  outcomes.forEach((outcome, i) => {
    if (outcome.status === 'fulfilled') return;
    const poison = outcome.reason instanceof Poison;
    console.error(JSON.stringify({ level: 'ERROR', message: poison ? 'poison message' : 'message failed', error: String(outcome.reason) }));
    // poison would fail again: dropped (the queue's DLQ keeps retryable ones)
    if (!poison) batchItemFailures.push({ itemIdentifier: event.Records[i].messageId });
  });
  console.log(JSON.stringify({ level: 'INFO', message: 'points batch', messages: event.Records.length, failed: batchItemFailures.length }));
  return { batchItemFailures };
}
