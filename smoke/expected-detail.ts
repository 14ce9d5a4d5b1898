/**
 * What the notifier should have published for one of the smoke test's writes, computed by
 * `render` (cli/render.ts, the notifier's own builder) from the stream record the write made:
 * the images the command wrote and the sequence number the delivered notification names.
 */
import { renderCommand } from '../cli/render.js';
import type { Image } from './test-node.js';

export interface RenderedEntry {
  readonly Source: string;
  readonly DetailType: string;
  /** The exact Detail text. */
  readonly Detail: string;
}

export interface WriteRecord {
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly oldImage?: Image;
  readonly newImage?: Image;
  readonly sequenceNumber: string;
  readonly streamArn: string;
  readonly epochSeconds: number;
}

/** The entries `render` prints for the record (none for a suppressed change); throws with render's own message when it rejects it. */
export async function renderExpected(write: WriteRecord, settings: { source: string; watchedFields: readonly string[] }): Promise<RenderedEntry[]> {
  const keyImage = write.newImage ?? write.oldImage!;
  const record = {
    eventID: `smoke-${write.sequenceNumber}`,
    eventName: write.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    eventSourceARN: write.streamArn,
    dynamodb: {
      ApproximateCreationDateTime: write.epochSeconds,
      Keys: { uuid: keyImage.uuid },
      SequenceNumber: write.sequenceNumber,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
      ...(write.newImage === undefined ? {} : { NewImage: write.newImage }),
      ...(write.oldImage === undefined ? {} : { OldImage: write.oldImage }),
    },
  };
  let out = '';
  let err = '';
  const status = await renderCommand(
    ['-', '--source', settings.source, '--watched-fields', settings.watchedFields.join(',')],
    { stdout: (t) => void (out += t), stderr: (t) => void (err += t), readStdin: async () => JSON.stringify(record) },
    // render reads only the notifier's variables; none of the caller's environment leaks in.
    {},
  );
  if (status !== 0) throw new Error(`render refused the test node's ${write.eventName} record: ${err.trim()}`);
  return out
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as RenderedEntry);
}
