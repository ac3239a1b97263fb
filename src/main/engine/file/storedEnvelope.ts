import { checkEnvelope, parseStoredLine, type StoredEvent } from '../../../shared/event';

const DATA_KEY = Buffer.from(',"data":');
/** Indexed envelope fields that may be absent: if one of these keys follows data, the order is not ours. */
const LATE_KEYS = ['"actor":', '"correlationId":', '"causationId":', '"tags":'].map((k) => Buffer.from(k));

/**
 * The envelope of a stored line without its data and meta (sealing indexes only envelope fields,
 * and parsing payloads was a fifth of its cost). Stored lines hold the envelope fields in order
 * with data and meta last (storedLine), and a quote inside a JSON string is always escaped, so the
 * first raw `,"data":` is the top-level data key. A line in any other shape — or whose payload
 * merely mentions an optional envelope key — takes the full parse, so no field is ever missed.
 */
export function parseStoredEnvelope(line: Buffer, where: string): StoredEvent {
  const at = line.indexOf(DATA_KEY);
  if (at > 0 && line[0] === 0x7b && line[1] === 0x22 && !LATE_KEYS.some((k) => line.indexOf(k, at) !== -1)) {
    try {
      return checkEnvelope(JSON.parse(`${line.toString('utf8', 0, at)}}`), where);
    } catch {
      // Not the shape we write: the full parse decides, and words any error.
    }
  }
  return parseStoredLine(line.toString('utf8'), where);
}
