// official-record-stream, the Node.js peer: official-result changes on the Races stream
// become result events on SNS (the envelope of shared/domain/src/events.rs), ten per
// PublishBatch, and the first record that failed is reported so the stream retries from it.

import { GetTopicAttributesCommand, PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ulid } from 'ulid';

const TOPIC = process.env.RECORD_EVENTS_TOPIC;
if (!TOPIC) throw new Error('RECORD_EVENTS_TOPIC is not set');

const sns = new SNSClient({});
// Warm-up, as ours does: one cheap call so the first publish does not pay the handshake.
await sns.send(new GetTopicAttributesCommand({ TopicArn: TOPIC })).catch((error) => {
  console.warn(JSON.stringify({ level: 'WARN', message: 'warm-up call failed', error: String(error) }));
});

const KIND = { INSERT: 'result.recorded', MODIFY: 'result.corrected', REMOVE: 'result.removed' };

function change(item, points, version) {
  for (const field of ['result_id', 'marathon_id', 'marathon_name', 'runner_id', 'runner_name']) {
    if (typeof item[field] !== 'string' || item[field] === '') throw new Error(`undecodable image: ${field}`);
  }
  if (!Number.isInteger(points) || !Number.isInteger(version)) throw new Error('undecodable image: points or version');
  const { result_id, marathon_id, marathon_name, runner_id, runner_name } = item;
  return { result_id, marathon_id, marathon_name, runner_id, runner_name, points, version };
}

/** One stream record -> one envelope, or null when it is not an official result or changed nothing. */
function translate(record) {
  const sk = record.dynamodb?.Keys?.sk?.S;
  if (!sk?.startsWith('RESULT#')) return null;
  const type = KIND[record.eventName];
  if (!type) throw new Error(`unknown event name ${record.eventName}`);
  let data;
  let correlation;
  if (record.eventName === 'REMOVE') {
    const old = unmarshall(record.dynamodb.OldImage);
    data = change(old, 0, old.version + 1);
    correlation = old.correlation_id;
  } else {
    const item = unmarshall(record.dynamodb.NewImage);
    if (record.eventName === 'MODIFY' && Number(record.dynamodb.OldImage?.version?.N) === item.version) return null;
    data = change(item, item.points, item.version);
    correlation = item.correlation_id;
  }
  const occurred = new Date(record.dynamodb.ApproximateCreationDateTime * 1000).toISOString();
  const envelope = { schema: 1, id: ulid(), occurred_at: occurred };
  if (correlation) envelope.correlation_id = correlation;
  envelope.type = type;
  envelope.data = data;
  return envelope;
}

function attribute(value) {
  return { DataType: 'String', StringValue: value };
}

export async function handler(event) {
  const started = Date.now();
  const pending = [];
  let parked = 0;
  for (const record of event.Records) {
    try {
      const envelope = translate(record);
      if (envelope) pending.push({ record, envelope });
    } catch (error) {
      // never decodable: logged and skipped, so it does not hold the shard
      parked += 1;
      console.error(JSON.stringify({ level: 'ERROR', message: 'poison record', error: error.message }));
    }
  }
  let firstFailed = null;
  const chunks = [];
  for (let i = 0; i < pending.length; i += 10) chunks.push(pending.slice(i, i + 10));
  await Promise.all(
    chunks.map(async (chunk, c) => {
      const entries = chunk.map(({ envelope }, i) => {
        const attributes = { type: attribute(envelope.type) };
        if (envelope.correlation_id) attributes.correlation_id = attribute(envelope.correlation_id);
        return { Id: String(c * 10 + i), Message: JSON.stringify(envelope), MessageAttributes: attributes };
      });
      let failed;
      try {
        const output = await sns.send(new PublishBatchCommand({ TopicArn: TOPIC, PublishBatchRequestEntries: entries }));
        failed = (output.Failed ?? []).map((f) => Number(f.Id));
      } catch (error) {
        console.error(JSON.stringify({ level: 'ERROR', message: 'publish failed', error: String(error) }));
        failed = entries.map((e) => Number(e.Id));
      }
      for (const index of failed) if (firstFailed === null || index < firstFailed) firstFailed = index;
    }),
  );
  const batchItemFailures =
    firstFailed === null ? [] : [{ itemIdentifier: pending[firstFailed].record.dynamodb.SequenceNumber }];
  console.log(
    JSON.stringify({
      level: 'INFO',
      message: 'stream batch',
      records: event.Records.length,
      published: pending.length - (firstFailed === null ? 0 : 1),
      parked,
      millis: Date.now() - started,
    }),
  );
  return { batchItemFailures };
}
