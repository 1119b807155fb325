/**
 * Poison records (signals that can never succeed) go to a dead-letter queue with their reason, so
 * the batch continues and nothing is lost. AWS: an encrypted SQS queue. Locally (no SQS stand-in):
 * a JSON-lines file under the local cloud's data directory.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface DeadLetter {
  /** Where the record came from (`kinesis:<seq>`, `eventbridge:<id>`). */
  readonly source: string;
  readonly reason: string;
  /** The raw record as received (text). */
  readonly record: string;
  readonly time: string;
}

export interface DeadLetters {
  send(letter: DeadLetter): Promise<void>;
}

export class SqsDeadLetters implements DeadLetters {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(letter: DeadLetter): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        // SQS messages are at most 256 KiB: keep the reason and as much of the record as fits.
        MessageBody: JSON.stringify({ ...letter, record: letter.record.slice(0, 200_000) }),
        MessageAttributes: { reason: { DataType: 'String', StringValue: letter.reason.slice(0, 256) } },
      }),
    );
  }
}

export class FileDeadLetters implements DeadLetters {
  constructor(readonly file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
  }

  async send(letter: DeadLetter): Promise<void> {
    appendFileSync(this.file, `${JSON.stringify(letter)}\n`);
  }
}
