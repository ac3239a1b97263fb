/**
 * Blocked gzip (BGZF-style, DESIGN §3 and §5): a file is a run of independent gzip members, each
 * carrying the `BC` extra subfield with its own size, ending with a fixed 28-byte empty member.
 * `zcat` reads it as one stream; we can seek to a member and inflate only that block.
 *
 * Virtual offsets: `voff = blockOffset * 65536 + inBlock`, i.e. BGZF's `blockOffset << 16 | inBlock`
 * kept as a plain Number, which is exact up to 2^53, so block offsets (file sizes) up to 2^37 bytes
 * (128 GiB) are supported. Virtual offsets sort in file order.
 */
import { fstatSync, readSync, write } from 'node:fs';
import { open } from 'node:fs/promises';
import { crc32, deflateRaw, deflateRawSync } from 'node:zlib';
import { ChronoscopeError } from '../../../shared/errors';
import { DEFLATE_MEM_LEVEL, DEFLATE_STRATEGY, deflateRawInto } from './rawDeflate';
import { inflateRawInto } from './rawInflate';

/** Largest uncompressed input per block (BGZF's 0xff00): even stored (level 0) it fits one 64 KiB member. */
export const MAX_BLOCK_INPUT = 0xff00;
/** Largest member on disk: BSIZE is a uint16 holding size − 1. */
export const MAX_BLOCK_SIZE = 0x10000;
/** The fixed empty member that ends every file; its absence means truncation or an unfinished write. */
export const BGZF_EOF: Buffer = Buffer.from(
  '1f8b08040000000000ff0600424302001b0003000000000000000000',
  'hex',
);

const HEADER_SIZE = 18;
const TRAILER_SIZE = 8;
/** The threadpool path compresses with the same parameters as the inline one: same bytes either way. */
const DEFLATE_PARAMS = { memLevel: DEFLATE_MEM_LEVEL, strategy: DEFLATE_STRATEGY };
const VOFF_SCALE = 0x10000;
const MAX_BLOCK_OFFSET = 2 ** 37;
const ENCODE_CONCURRENCY = 8;
const SCAN_CHUNK = 1 << 20;

/** Damage or malformation in a blocked gzip file; `offset` is the member's byte offset, so `verify` can name it. */
export class BgzfError extends ChronoscopeError {
  readonly offset: number;
  readonly problem: string;
  constructor(offset: number, problem: string) {
    super('CORRUPT', `blocked gzip damaged at byte offset ${offset}: ${problem}`, { offset, problem });
    this.name = 'BgzfError';
    this.offset = offset;
    this.problem = problem;
  }
}

/** Packs a member offset and a position inside its inflated block into one sortable index key. */
export function makeVirtualOffset(blockOffset: number, inBlock: number): number {
  if (!Number.isInteger(blockOffset) || blockOffset < 0 || blockOffset >= MAX_BLOCK_OFFSET)
    throw new RangeError(`block offset ${blockOffset} is outside [0, 2^37)`);
  if (!Number.isInteger(inBlock) || inBlock < 0 || inBlock >= VOFF_SCALE)
    throw new RangeError(`in-block offset ${inBlock} is outside [0, 65536)`);
  return blockOffset * VOFF_SCALE + inBlock;
}

/** Inverse of makeVirtualOffset: where to seek, and where the record starts in the inflated block. */
export function splitVirtualOffset(voff: number): { blockOffset: number; inBlock: number } {
  if (!Number.isSafeInteger(voff) || voff < 0) throw new RangeError(`invalid virtual offset ${voff}`);
  return { blockOffset: Math.floor(voff / VOFF_SCALE), inBlock: voff % VOFF_SCALE };
}

/** How encodeBlocks compresses and where its output will sit in the file. */
export interface EncodeOptions {
  /** zlib level 0–9 (default 6). */
  level?: number;
  /** Uncompressed bytes per block, 1..MAX_BLOCK_INPUT (default MAX_BLOCK_INPUT); small values help tests. */
  blockInputCap?: number;
  /** File offset the output will be written at, so offsets/voffs are absolute when appending (default 0). */
  baseOffset?: number;
  /** Append the EOF marker (default true); BgzfWriter turns it off between batches. */
  eof?: boolean;
  /**
   * Compress on the calling thread (a worker) instead of libuv's threadpool, which the whole
   * process shares: there a seal's hundreds of blocks queue ahead of the append path's write and fsync.
   */
  inline?: boolean;
}
/** Where one line landed: its virtual offset and its byte length without the newline. */
export interface RecordLocation {
  voff: number;
  length: number;
}
/** One written member: file offset, on-disk size, inflated size; what block-level summaries are keyed by. */
export interface BlockInfo {
  offset: number;
  csize: number;
  usize: number;
}
/** The output of encodeBlocks: bytes to write plus where every record and block ended up. */
export interface EncodedBlocks {
  data: Buffer;
  records: RecordLocation[];
  blocks: BlockInfo[];
}

interface Spot {
  block: number;
  inBlock: number;
  length: number;
}

/** Fills blocks with whole lines; only a line longer than a block starts a fresh block and spans several. */
function pack(lines: readonly (string | Buffer)[], cap: number): { inputs: Buffer[]; spots: Spot[] } {
  const inputs: Buffer[] = [];
  const spots: Spot[] = [];
  let cur = Buffer.allocUnsafe(cap);
  let used = 0;
  const flush = (): void => {
    if (used === 0) return;
    inputs.push(cur.subarray(0, used));
    cur = Buffer.allocUnsafe(cap);
    used = 0;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const isStr = typeof line === 'string';
    if ((isStr ? line.indexOf('\n') : line.indexOf(10)) !== -1)
      throw new ChronoscopeError('INVALID_ARGUMENT', `line ${i} contains a newline; a record is one line`);
    const len = isStr ? Buffer.byteLength(line) : line.length;
    if (len + 1 > cap - used) flush();
    if (len + 1 <= cap) {
      spots.push({ block: inputs.length, inBlock: used, length: len });
      used += isStr ? cur.write(line, used) : line.copy(cur, used);
      cur[used++] = 10;
      continue;
    }
    spots.push({ block: inputs.length, inBlock: 0, length: len });
    const whole = isStr ? Buffer.from(line + '\n') : Buffer.concat([line, Buffer.from('\n')]);
    for (let p = 0; p < whole.length; p += cap) {
      const piece = whole.subarray(p, p + cap);
      if (piece.length === cap) inputs.push(piece);
      else used = piece.copy(cur, 0);
    }
  }
  flush();
  return { inputs, spots };
}

/** Room for one member's compressed data (the member must stay within 64 KiB). */
const MAX_CDATA = MAX_BLOCK_SIZE - HEADER_SIZE - TRAILER_SIZE;
/** Where compressBlockInline deflates to before the member is cut to size (one thread, one block at a time). */
const deflateScratch = Buffer.allocUnsafe(MAX_CDATA);

function member(input: Buffer, cdata: Buffer): Buffer {
  const size = HEADER_SIZE + cdata.length + TRAILER_SIZE;
  if (size > MAX_BLOCK_SIZE) throw new ChronoscopeError('INTERNAL', `block of ${size} bytes exceeds 64 KiB`);
  const out = Buffer.allocUnsafe(size);
  BGZF_EOF.copy(out, 0, 0, 16); // ID1 ID2 CM FLG=FEXTRA MTIME XFL OS XLEN=6 'B' 'C' SLEN=2
  out.writeUInt16LE(size - 1, 16);
  cdata.copy(out, HEADER_SIZE);
  out.writeUInt32LE(crc32(input), size - 8);
  out.writeUInt32LE(input.length, size - 4);
  return out;
}

function compressBlock(input: Buffer, level: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    deflateRaw(input, { ...DEFLATE_PARAMS, level, chunkSize: MAX_BLOCK_SIZE }, (err, cdata) => {
      if (err) return reject(err);
      const fits = HEADER_SIZE + cdata.length + TRAILER_SIZE <= MAX_BLOCK_SIZE;
      try {
        resolve(member(input, fits ? cdata : deflateRawSync(input, { level: 0 })));
      } catch (e) {
        reject(e);
      }
    }),
  );
}

function compressBlockInline(input: Buffer, level: number): Buffer {
  const n = deflateRawInto(input, deflateScratch, level);
  return member(input, n === undefined ? deflateRawSync(input, { level: 0 }) : deflateScratch.subarray(0, n));
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Encodes JSONL lines (each stored followed by '\n') as blocked gzip. Compression runs on libuv's
 * threadpool (a few blocks in flight), so the calling thread only packs lines and copies bytes.
 */
export async function encodeBlocks(
  lines: readonly (string | Buffer)[],
  opts: EncodeOptions = {},
): Promise<EncodedBlocks> {
  const level = opts.level ?? 6;
  const cap = opts.blockInputCap ?? MAX_BLOCK_INPUT;
  checkOptions(level, cap);
  const { inputs, spots } = pack(lines, cap);
  const { data, blocks } = await compressInputs(inputs, level, opts);
  const records = spots.map((s) => ({
    voff: makeVirtualOffset(blocks[s.block].offset, s.inBlock),
    length: s.length,
  }));
  return { data, records, blocks };
}

/**
 * Encodes a buffer of whole JSONL lines (each ending in '\n'; line i starts at lineStarts[i], the
 * last ends at totalU) as blocked gzip. Blocks are cut exactly as encodeBlocks cuts them, but are
 * views of `raw`: no per-line buffers and no copy (sealing, where the lines already sit in a file).
 */
export async function encodeLineBuffer(
  raw: Buffer,
  lineStarts: ArrayLike<number>,
  n: number,
  totalU: number,
  opts: EncodeOptions = {},
): Promise<Omit<EncodedBlocks, 'records'>> {
  const level = opts.level ?? 6;
  const cap = opts.blockInputCap ?? MAX_BLOCK_INPUT;
  checkOptions(level, cap);
  const inputs: Buffer[] = [];
  let bs = 0;
  for (let i = 0; i < n; i++) {
    const s = lineStarts[i]!;
    const len = (i + 1 < n ? lineStarts[i + 1]! : totalU) - s;
    if (len > cap - (s - bs) && s > bs) {
      inputs.push(raw.subarray(bs, s));
      bs = s;
    }
    if (len <= cap) continue;
    // A line longer than a block: whole pieces of it, the rest starts the next block.
    for (; s + len - bs >= cap; bs += cap) inputs.push(raw.subarray(bs, bs + cap));
  }
  if (totalU > bs) inputs.push(raw.subarray(bs, totalU));
  return compressInputs(inputs, level, opts);
}

function checkOptions(level: number, cap: number): void {
  if (!Number.isInteger(level) || level < 0 || level > 9)
    throw new ChronoscopeError('INVALID_ARGUMENT', `compression level must be 0..9, got ${level}`);
  if (!Number.isInteger(cap) || cap < 1 || cap > MAX_BLOCK_INPUT)
    throw new ChronoscopeError('INVALID_ARGUMENT', `blockInputCap must be 1..${MAX_BLOCK_INPUT}, got ${cap}`);
}

async function compressInputs(
  inputs: Buffer[],
  level: number,
  opts: EncodeOptions,
): Promise<Omit<EncodedBlocks, 'records'>> {
  const members = opts.inline
    ? inputs.map((b) => compressBlockInline(b, level))
    : await mapLimited(inputs, ENCODE_CONCURRENCY, (b) => compressBlock(b, level));
  const blocks: BlockInfo[] = [];
  let offset = opts.baseOffset ?? 0;
  for (let i = 0; i < members.length; i++) {
    blocks.push({ offset, csize: members[i].length, usize: inputs[i].length });
    offset += members[i].length;
  }
  if (opts.eof !== false) members.push(BGZF_EOF);
  return { data: Buffer.concat(members), blocks };
}

/** Checks a member header at buf[pos] (which must hold 12 + XLEN bytes) and returns BSIZE + 1. */
function memberSize(buf: Buffer, pos: number, at: number): number {
  const avail = buf.length - pos;
  if (avail < 12) throw new BgzfError(at, `truncated header (${avail} bytes where a member should start)`);
  if (buf[pos] !== 0x1f || buf[pos + 1] !== 0x8b) throw new BgzfError(at, 'bad gzip magic');
  if (buf[pos + 2] !== 8) throw new BgzfError(at, `unsupported compression method ${buf[pos + 2]}`);
  if (buf[pos + 3] !== 4)
    throw new BgzfError(at, `gzip flags ${buf[pos + 3]} (blocked gzip uses FEXTRA only)`);
  const end = pos + 12 + buf.readUInt16LE(pos + 10);
  if (end > buf.length) throw new BgzfError(at, 'truncated header (extra field cut off)');
  for (let p = pos + 12; p + 4 <= end; p += 4 + buf.readUInt16LE(p + 2)) {
    if (buf[p] === 66 && buf[p + 1] === 67 && buf.readUInt16LE(p + 2) === 2 && p + 6 <= end)
      return buf.readUInt16LE(p + 4) + 1;
  }
  throw new BgzfError(at, 'no BC extra subfield (plain gzip, not blocked)');
}

function isEofMember(buf: Buffer, pos: number, csize: number): boolean {
  return csize === BGZF_EOF.length && buf.compare(BGZF_EOF, 0, csize, pos, pos + csize) === 0;
}

/** Validates and inflates the whole member at buf[pos]; `at` is its file offset for error messages. */
function decodeMember(buf: Buffer, pos: number, at: number): { data: Buffer; csize: number } {
  const csize = memberSize(buf, pos, at);
  const hlen = 12 + buf.readUInt16LE(pos + 10);
  if (csize < hlen + TRAILER_SIZE) throw new BgzfError(at, `BSIZE ${csize - 1} is smaller than the header`);
  const avail = buf.length - pos;
  if (avail < csize) throw new BgzfError(at, `truncated member: BSIZE says ${csize} bytes, ${avail} present`);
  const end = pos + csize;
  const crc = buf.readUInt32LE(end - 8);
  const isize = buf.readUInt32LE(end - 4);
  if (isize > MAX_BLOCK_SIZE) throw new BgzfError(at, `ISIZE ${isize} exceeds 64 KiB`);
  // One byte more than ISIZE, so a block inflating to more than it claims is caught.
  const out = Buffer.allocUnsafe(isize + 1);
  let produced: number;
  try {
    produced = inflateRawInto(buf.subarray(pos + hlen, end - TRAILER_SIZE), out, isize + 1);
  } catch (e) {
    throw new BgzfError(at, `inflate failed: ${(e as Error).message}`);
  }
  if (produced !== isize)
    throw new BgzfError(
      at,
      `ISIZE ${isize} but block inflates to ${produced === isize + 1 ? 'more' : produced}`,
    );
  const data = out.subarray(0, isize);
  if (crc32(data) !== crc) throw new BgzfError(at, 'CRC32 mismatch');
  return { data, csize };
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/** Reads, validates and inflates exactly one member: the random-access primitive behind every indexed read. */
export function readBlockAt(fd: number, offset: number): { block: Buffer; csize: number } {
  let head = readAt(fd, offset, HEADER_SIZE);
  if (head.length >= 12 && 12 + head.readUInt16LE(10) > HEADER_SIZE)
    head = readAt(fd, offset, 12 + head.readUInt16LE(10));
  const { data, csize } = decodeMember(readAt(fd, offset, memberSize(head, 0, offset)), 0, offset);
  return { block: data, csize };
}

/** Reads one member given its offset; readRecord takes one so a BlockCache can sit in between. */
export type BlockReader = (offset: number) => { block: Buffer; csize: number };

/** Returns one record's bytes (no newline), following it into the next blocks when it spans them. */
export function readRecord(
  fd: number,
  voff: number,
  length: number,
  read: BlockReader = (o) => readBlockAt(fd, o),
): Buffer {
  const split = splitVirtualOffset(voff);
  const inBlock = split.inBlock;
  let blockOffset = split.blockOffset;
  let { block, csize } = read(blockOffset);
  if (inBlock > block.length)
    throw new BgzfError(
      blockOffset,
      `virtual offset points ${inBlock} bytes into a ${block.length}-byte block`,
    );
  if (inBlock + length <= block.length) return Buffer.from(block.subarray(inBlock, inBlock + length));
  const out = Buffer.allocUnsafe(length);
  let got = block.copy(out, 0, inBlock);
  while (got < length) {
    blockOffset += csize;
    ({ block, csize } = read(blockOffset));
    if (block.length === 0) throw new BgzfError(blockOffset, 'record continues past the last data block');
    got += block.copy(out, got, 0, Math.min(block.length, length - got));
  }
  return out;
}

/** One validated member as iteration yields it; `eofMarker` marks the fixed empty end member. */
export interface BlockEntry {
  offset: number;
  csize: number;
  data: Buffer;
  eofMarker: boolean;
}

/** Walks every member of an in-memory file (or a slice starting at `baseOffset`), throwing BgzfError on damage. */
export function* iterateBlocks(buf: Buffer, baseOffset = 0): Generator<BlockEntry> {
  for (let pos = 0; pos < buf.length;) {
    const { data, csize } = decodeMember(buf, pos, baseOffset + pos);
    yield { offset: baseOffset + pos, csize, data, eofMarker: isEofMember(buf, pos, csize) };
    pos += csize;
  }
}

/** Same walk over an open file, one member in memory at a time (used by recovery and rebuilds). */
export function* iterateFileBlocks(fd: number, startOffset = 0): Generator<BlockEntry> {
  const size = fstatSync(fd).size;
  for (let offset = startOffset; offset < size;) {
    const { block, csize } = readBlockAt(fd, offset);
    const eofMarker = csize === BGZF_EOF.length && isEofMember(readAt(fd, offset, csize), 0, csize);
    yield { offset, csize, data: block, eofMarker };
    offset += csize;
  }
}

/** Cheap truncation check on open: do the last 28 bytes equal the EOF marker? */
export function hasEofMarker(fd: number): boolean {
  const size = fstatSync(fd).size;
  if (size < BGZF_EOF.length) return false;
  return readAt(fd, size - BGZF_EOF.length, BGZF_EOF.length).equals(BGZF_EOF);
}

/** Outcome of scanFile; `error` names the first damaged byte offset and what is wrong there. */
export interface ScanResult {
  ok: boolean;
  /** Data members seen before any damage (EOF markers not counted). */
  blocks: number;
  uncompressedBytes: number;
  eofMarker: boolean;
  error?: { offset: number; problem: string };
}

/**
 * Validates a whole file (every member well-formed, CRC32 and ISIZE right, EOF marker last) reading
 * 1 MiB at a time asynchronously, so a big segment does not block the thread for long.
 */
export async function scanFile(path: string): Promise<ScanResult> {
  const res: ScanResult = { ok: false, blocks: 0, uncompressedBytes: 0, eofMarker: false };
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    let buf = Buffer.alloc(0);
    let base = 0; // file offset of buf[0]
    for (let pos = 0; pos < size;) {
      const loaded = base + buf.length;
      if (loaded - pos < MAX_BLOCK_SIZE && loaded < size) {
        const chunk = Buffer.allocUnsafe(Math.min(SCAN_CHUNK, size - loaded));
        const { bytesRead } = await fh.read(chunk, 0, chunk.length, loaded);
        buf = Buffer.concat([buf.subarray(pos - base), chunk.subarray(0, bytesRead)]);
        base = pos;
        if (bytesRead === 0) break;
        continue;
      }
      const { data, csize } = decodeMember(buf, pos - base, pos);
      res.eofMarker = isEofMember(buf, pos - base, csize);
      if (!res.eofMarker) res.blocks++;
      res.uncompressedBytes += data.length;
      pos += csize;
    }
    if (!res.eofMarker) res.error = { offset: size, problem: 'no EOF marker: file truncated or unfinished' };
  } catch (e) {
    if (!(e instanceof BgzfError)) throw e;
    res.eofMarker = false;
    res.error = { offset: e.offset, problem: e.problem };
  } finally {
    await fh.close();
  }
  res.ok = res.error === undefined;
  return res;
}

function writeAt(fd: number, buf: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (done: number): void =>
      write(fd, buf, done, buf.length - done, position + done, (err, n) => {
        if (err) reject(err);
        else if (done + n >= buf.length) resolve();
        else step(done + n);
      });
    step(0);
  });
}

/**
 * Streams a large input to an open fd batch by batch, so sealing a big segment never holds it all
 * in memory. Each append ends its batch's last block; calls are serialised. After a failed write the
 * file is unusable: discard it (the sealer writes to `*.tmp` anyway).
 */
export class BgzfWriter {
  readonly #fd: number;
  readonly #opts: Readonly<Pick<EncodeOptions, 'level' | 'blockInputCap'>>;
  #position: number;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(fd: number, opts: Pick<EncodeOptions, 'level' | 'blockInputCap'> & { position?: number } = {}) {
    this.#fd = fd;
    this.#opts = Object.freeze({ level: opts.level, blockInputCap: opts.blockInputCap });
    this.#position = opts.position ?? 0;
  }

  /** File offset where the next batch (or the EOF marker) goes. */
  get position(): number {
    return this.#position;
  }

  /** Compresses and writes one batch; resolves with absolute record locations and blocks. */
  append(lines: readonly (string | Buffer)[]): Promise<Omit<EncodedBlocks, 'data'>> {
    return this.#serial(async () => {
      const enc = await encodeBlocks(lines, { ...this.#opts, baseOffset: this.#position, eof: false });
      await writeAt(this.#fd, enc.data, this.#position);
      this.#position += enc.data.length;
      return { records: enc.records, blocks: enc.blocks };
    });
  }

  /** Writes the EOF marker and resolves with the file's total size; fsync and close stay with the caller. */
  finish(): Promise<number> {
    return this.#serial(async () => {
      await writeAt(this.#fd, BGZF_EOF, this.#position);
      this.#position += BGZF_EOF.length;
      return this.#position;
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

const CACHE_ENTRY_OVERHEAD = 128;

/** LRU of inflated blocks keyed by (fileId, offset) within a byte budget: neighbouring reads inflate once. */
export class BlockCache {
  readonly #budget: number;
  readonly #entries = new Map<string, { block: Buffer; csize: number }>();
  #bytes = 0;
  hits = 0;
  misses = 0;

  constructor(budgetBytes = 64 << 20) {
    this.#budget = budgetBytes;
  }

  /** Bytes currently held (block sizes plus a fixed per-entry overhead). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Number of cached blocks. */
  get size(): number {
    return this.#entries.size;
  }

  /** The cached block, marked most recently used; undefined on a miss. */
  get(fileId: string, offset: number): { block: Buffer; csize: number } | undefined {
    const key = `${fileId}\0${offset}`;
    const entry = this.#entries.get(key);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    this.hits++;
    return entry;
  }

  /** Stores a block, evicting least recently used ones until the budget holds; oversized blocks are skipped. */
  set(fileId: string, offset: number, entry: { block: Buffer; csize: number }): void {
    const key = `${fileId}\0${offset}`;
    this.#remove(key);
    const cost = entry.block.length + CACHE_ENTRY_OVERHEAD;
    if (cost > this.#budget) return;
    this.#entries.set(key, entry);
    this.#bytes += cost;
    for (const oldest of this.#entries.keys()) {
      if (this.#bytes <= this.#budget) break;
      this.#remove(oldest);
    }
  }

  /** Drops every block of one file, e.g. when compaction replaces or unlinks it. */
  evictFile(fileId: string): void {
    const prefix = `${fileId}\0`;
    for (const key of [...this.#entries.keys()]) if (key.startsWith(prefix)) this.#remove(key);
  }

  /** A BlockReader for readRecord that serves from the cache and fills it on a miss. */
  reader(fileId: string, fd: number): BlockReader {
    return (offset) => {
      const hit = this.get(fileId, offset);
      if (hit) return hit;
      const entry = readBlockAt(fd, offset);
      this.set(fileId, offset, entry);
      return entry;
    };
  }

  #remove(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#bytes -= entry.block.length + CACHE_ENTRY_OVERHEAD;
  }
}
