import { checkEnvelope, parseStoredLine, type StoredEvent } from '../../../shared/event';

const DATA_KEY = Buffer.from(',"data":');

/**
 * The envelope of a stored line without its data and meta (sealing indexes only envelope fields,
 * and parsing payloads was a fifth of its cost). Plain segments are only ever written by
 * FileStore from storedLine, which puts every envelope field before data and meta last, and a
 * quote inside a JSON string is always escaped, so the first raw `,"data":` is the top-level data
 * key. A line whose prefix is not a whole envelope takes the full parse, which decides and words
 * any error.
 */
export function parseStoredEnvelope(line: Buffer, where: string): StoredEvent {
  const at = line.indexOf(DATA_KEY);
  if (at > 0 && line[0] === 0x7b && line[1] === 0x22) {
    try {
      return checkEnvelope(JSON.parse(`${line.toString('utf8', 0, at)}}`), where);
    } catch {
      // Not the shape storedLine writes: fall through to the full parse.
    }
  }
  return parseStoredLine(line.toString('utf8'), where);
}
