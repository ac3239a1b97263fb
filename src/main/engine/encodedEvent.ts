import type { JsonValue, NormalisedEvent, StoredEvent } from '../../shared/event';

type JsonObject = { [key: string]: JsonValue };

/**
 * A validated event whose data and meta are held as their canonical JSON text (see
 * ingest/canonicalJson), not as objects: what a fast importer makes of a line. Reading `data` or
 * `meta` parses the text (a fresh value each time), so any consumer that is not aware of the text
 * still sees an ordinary event; the sequencer and the file store's writer use the text itself.
 *
 * Its strings must be plain: no quote, backslash, control character or surrogate (canonicalJson's
 * plainText), so their JSON form is the string in quotes. Only a reader that has checked its text
 * makes one.
 */
export class EncodedEvent implements NormalisedEvent {
  declare actor?: string;
  declare correlationId?: string;
  declare causationId?: string;
  /** Never set: events with tags or a schema version are not encoded. */
  declare tags?: string[];
  declare schemaVersion?: number;

  // Private, so its own enumerable keys are exactly a plain event's (validators list them).
  readonly #dataJson: string;
  readonly #metaJson: string | undefined;

  /** `dataJson`: canonical JSON text of data; `metaJson`: of meta (an object), if any. */
  constructor(
    public id: string,
    public stream: string,
    public type: string,
    public time: string,
    public tenant: string,
    dataJson: string,
    metaJson: string | undefined,
  ) {
    this.#dataJson = dataJson;
    this.#metaJson = metaJson;
  }

  get dataJson(): string {
    return this.#dataJson;
  }
  get metaJson(): string | undefined {
    return this.#metaJson;
  }

  get data(): JsonValue {
    return JSON.parse(this.dataJson) as JsonValue;
  }
  get meta(): JsonObject | undefined {
    return this.metaJson === undefined ? undefined : (JSON.parse(this.metaJson) as JsonObject);
  }

  /** The plain event (for stores that keep objects, and for serialisers). */
  toJSON(): NormalisedEvent {
    const out: NormalisedEvent = {
      id: this.id,
      stream: this.stream,
      type: this.type,
      time: this.time,
      tenant: this.tenant,
      data: this.data,
    };
    if (this.actor !== undefined) out.actor = this.actor;
    if (this.correlationId !== undefined) out.correlationId = this.correlationId;
    if (this.causationId !== undefined) out.causationId = this.causationId;
    if (this.metaJson !== undefined) out.meta = this.meta;
    return out;
  }
}

/** A plain NormalisedEvent for any input (an EncodedEvent is parsed; others are returned as they are). */
export function plainEvent(e: NormalisedEvent): NormalisedEvent {
  return e instanceof EncodedEvent ? e.toJSON() : e;
}

/**
 * The stored form of an EncodedEvent: own fields in envelope order (as the sequencer builds every
 * stored event), data and meta as text behind parsing getters.
 */
export class EncodedStoredEvent implements StoredEvent {
  declare actor?: string;
  declare correlationId?: string;
  declare causationId?: string;
  readonly #dataJson: string;
  readonly #metaJson: string | undefined;

  constructor(
    public seq: number,
    public id: string,
    public stream: string,
    public version: number,
    public type: string,
    public time: string,
    public recordedAt: string,
    public tenant: string,
    from: EncodedEvent,
  ) {
    // Assigned only when present, as the sequencer's literals do: absent fields are not keys.
    if (from.actor !== undefined) this.actor = from.actor;
    if (from.correlationId !== undefined) this.correlationId = from.correlationId;
    if (from.causationId !== undefined) this.causationId = from.causationId;
    this.#dataJson = from.dataJson;
    this.#metaJson = from.metaJson;
  }

  get data(): JsonValue {
    return JSON.parse(this.#dataJson) as JsonValue;
  }
  get meta(): JsonObject | undefined {
    return this.#metaJson === undefined ? undefined : (JSON.parse(this.#metaJson) as JsonObject);
  }

  /**
   * Its stored line, the same text JSON.stringify gives for the equal plain event, built without
   * it (JSON.stringify of the envelope alone cost ~1 µs, most of the line's cost): its strings are
   * plain (see EncodedEvent), so each one's JSON form is itself in quotes; data and meta are spliced
   * in as they are.
   */
  line(): string {
    let out = `{"seq":${this.seq},"id":"${this.id}","stream":"${this.stream}","version":${this.version},"type":"${this.type}","time":"${this.time}","recordedAt":"${this.recordedAt}","tenant":"${this.tenant}"`;
    if (this.actor !== undefined) out += `,"actor":"${this.actor}"`;
    if (this.correlationId !== undefined) out += `,"correlationId":"${this.correlationId}"`;
    if (this.causationId !== undefined) out += `,"causationId":"${this.causationId}"`;
    out += `,"data":${this.#dataJson}`;
    return this.#metaJson === undefined ? `${out}}` : `${out},"meta":${this.#metaJson}}`;
  }
}

/** The stored line of any event the sequencer made (see storedLine in shared/event). */
export function storedLineOf(e: StoredEvent): string {
  return e instanceof EncodedStoredEvent ? e.line() : JSON.stringify(e);
}
