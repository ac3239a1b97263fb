import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../conformance/backends';
import { BIN, cli } from '../support/cli';

describe('chronoscope CLI', () => {
  const tmp = tempDir('chronoscope-cli-');
  const demo = join(tmp.dir, 'demo');

  let plantedStream = '';
  beforeAll(async () => {
    const r = await cli(['--segment-max-bytes', '200000', 'demo', demo, '-n', '6000']);
    expect(r.code, r.stderr).toBe(0);
    plantedStream = /planted bug: (Order-\d+)/.exec(r.stdout)![1]!;
    expect(r.stdout).toMatch(/planted bug: Order-\d+ is refunded twice/);
  }, 120_000);
  afterAll(() => tmp.remove());

  it('demo creates sealed blocked-gzip segments that plain gunzip reads as JSONL', () => {
    const sealed = readdirSync(join(demo, 'segments')).filter((n) => n.endsWith('.jsonl.gz'));
    expect(sealed.length).toBeGreaterThan(1);
    const text = gunzipSync(readFileSync(join(demo, 'segments', sealed[0]!))).toString('utf8');
    const first = JSON.parse(text.split('\n')[0]!);
    expect(first).toMatchObject({ seq: 1, version: 1 });
    expect(existsSync(join(demo, 'DEMO.md'))).toBe(true);
  });

  it('store files are private to their owner', () => {
    expect(statSync(join(demo, 'segments')).mode & 0o777).toBe(0o700);
    expect(statSync(join(demo, 'chronoscope.db')).mode & 0o777).toBe(0o600);
    for (const n of readdirSync(join(demo, 'segments')))
      expect(statSync(join(demo, 'segments', n)).mode & 0o777).toBe(0o600);
  });

  it('query --type OrderPlaced --limit 5 --format jsonl prints five OrderPlaced events', async () => {
    const r = await cli(['query', demo, '--type', 'OrderPlaced', '--limit', '5', '--format', 'jsonl']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(5);
    for (const e of lines) expect(e.type).toBe('OrderPlaced');
    expect(lines.map((e) => e.seq)).toEqual([...lines.map((e) => e.seq)].sort((a, b) => a - b));
  });

  it('query flags combine: --where, --search, --stream prefix, --desc, json output', async () => {
    const neg = await cli(['query', demo, '--type', 'RefundIssued', '--where', 'total<0', '-f', 'json']);
    const events = JSON.parse(neg.stdout);
    expect(events.length).toBeGreaterThanOrEqual(1);
    for (const e of events) expect(e.data.total).toBeLessThan(0);
    const desc = await cli(['query', demo, '--stream', 'Order-*', '--desc', '-n', '3', '-f', 'json']);
    const d = JSON.parse(desc.stdout);
    expect(d).toHaveLength(3);
    expect(d[0].seq).toBeGreaterThan(d[1].seq);
    for (const e of d) expect(e.stream.startsWith('Order-')).toBe(true);
  });

  it('get, stream and stats read the same events', async () => {
    const one = JSON.parse(
      (await cli(['query', demo, '--type', 'OrderPlaced', '-n', '1', '-f', 'json'])).stdout,
    )[0];
    const byId = JSON.parse((await cli(['get', demo, one.id])).stdout)[0];
    expect(byId).toEqual(one);
    const bySeq = JSON.parse((await cli(['get', demo, `#${one.seq}`])).stdout)[0];
    expect(bySeq).toEqual(one);
    const stream = JSON.parse((await cli(['stream', demo, one.stream, '-f', 'json'])).stdout);
    expect(stream[0]).toEqual(one);
    const stats = JSON.parse((await cli(['stats', demo, '--json'])).stdout);
    expect(stats.events).toBeGreaterThan(5900);
    expect(stats.types.OrderPlaced).toBeGreaterThan(0);
  });

  it('verify passes on a healthy store', async () => {
    const ok = await cli(['verify', demo]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^OK: \d+ events/m);
  });

  it('append reads JSONL from stdin; a bad line is refused with its line number', async () => {
    const store = join(tmp.dir, 'appended');
    const input = '{"stream":"A","type":"X","data":{"n":1}}\n\n{"stream":"A","type":"Y"}\n';
    const r = await cli(['append', store], input);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/appended 2 events; last seq 2/);
    const bad = await cli(['append', store], '{"stream":"A","type":"X"}\n{oops\n');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/stdin line 2: not valid JSON/);
    const missing = await cli(['append', store], '{"stream":"A"}\n');
    expect(missing.stderr).toMatch(/field type/);
  });

  it('import quarantines malformed lines with file and line, and reports counts', async () => {
    const store = join(tmp.dir, 'imported');
    const file = join(tmp.dir, 'foreign.jsonl');
    writeFileSync(
      file,
      [
        '{"eventId":"e1","eventType":"OrderPlaced","timestamp":"2026-01-01T00:00:00Z","payload":{"orderId":"1"}}',
        'not json at all',
        '{"eventId":"e2","eventType":"OrderPaid","timestamp":"2026-01-01T00:01:00Z","payload":{"orderId":"1"}}',
      ].join('\n'),
    );
    const r = await cli(['import', store, file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 imported, 0 duplicates, 1 quarantined/);
    expect(r.stdout).toMatch(/foreign\.jsonl:2:/);
    const q = readdirSync(join(store, 'quarantine'));
    expect(q).toHaveLength(1);
    const rec = JSON.parse(readFileSync(join(store, 'quarantine', q[0]!), 'utf8').trim());
    expect(rec).toMatchObject({ line: 2, raw: 'not json at all' });
    const again = await cli(['import', store, file]);
    expect(again.stdout).toMatch(/0 imported, 2 duplicates, 1 quarantined/);
  });

  it('a bad config names the key and the reason', async () => {
    const cfg = join(tmp.dir, 'bad.config.json');
    writeFileSync(cfg, JSON.stringify({ file: { compresionLevel: 3 } }));
    const r = await cli(['--config', cfg, 'stats', demo]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/key file\.compresionLevel: unknown key \[INVALID_CONFIG\]/);
  });

  it('bad flags get a clear error, not a stack trace', async () => {
    const r = await cli(['query', demo, '--since', 'someday']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--since "someday": expected an ISO time/);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
    const nf = await cli(['query', join(tmp.dir, 'nowhere')]);
    expect(nf.stderr).toMatch(/no Chronoscope store/);
  });

  it('rebuild-index recreates the index from segments with identical answers', async () => {
    const before = (await cli(['query', demo, '--type', 'PaymentCaptured', '-n', '50', '-f', 'jsonl']))
      .stdout;
    const r = await cli(['rebuild-index', demo]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/rebuilt index: \d+ events from \d+ sealed segments/);
    const after = (await cli(['query', demo, '--type', 'PaymentCaptured', '-n', '50', '-f', 'jsonl'])).stdout;
    expect(after).toBe(before);
  });

  it('tail -F follows events appended by another process', async () => {
    const store = join(tmp.dir, 'tailed');
    await cli(['append', store], '{"stream":"T","type":"First"}\n');
    const { spawn } = await import('node:child_process');
    const child = spawn('node', [BIN, 'tail', store, '-f', '--format', 'jsonl']);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 200 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      return re.test(out);
    };
    expect(await waitFor(/First/)).toBe(true);
    await cli(['append', store], '{"stream":"T","type":"Second"}\n');
    expect(await waitFor(/Second/)).toBe(true);
    child.kill('SIGTERM');
  });

  it('follow live-imports an external log, quarantining bad lines with file:line, until Ctrl-C', async () => {
    const { spawn } = await import('node:child_process');
    const { appendFileSync, writeFileSync } = await import('node:fs');
    const store = join(tmp.dir, 'followed');
    const log = join(tmp.dir, 'app.jsonl');
    writeFileSync(log, '{"eventType":"UserSignedUp","eventId":"e1","timestamp":"2026-01-01T00:00:00Z"}\n');
    const child = spawn('node', [BIN, 'follow', store, log]);
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 300 && !re.test(err); i++) await new Promise((r) => setTimeout(r, 50));
      return re.test(err);
    };
    expect(await waitFor(/following /), err).toBe(true);
    appendFileSync(
      log,
      '{oops\n{"eventType":"UserSignedIn","eventId":"e2","timestamp":"2026-01-01T00:01:00Z"}\n',
    );
    expect(await waitFor(/3 lines, 2 imported, 1 quarantined/), err).toBe(true);
    expect(err).toContain(`quarantined ${log}:2: invalid JSON`);
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
    const q = await cli(['query', store, '-f', 'jsonl']);
    expect(
      q.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).type),
    ).toEqual(['UserSignedUp', 'UserSignedIn']);
  });

  it('serve answers the API on 127.0.0.1 only with the printed token', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn('node', [BIN, 'serve', demo, '--read-only']);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    try {
      for (let i = 0; i < 200 && !/token=/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      const url = new URL(/http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.exec(out)![0]);
      const token = url.searchParams.get('token')!;
      const call = (auth?: string) =>
        fetch(`${url.origin}/api/stats`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(auth ? { authorization: `Bearer ${auth}` } : {}),
          },
          body: '{}',
        });
      expect((await call()).status).toBe(401);
      expect((await call('wrong')).status).toBe(401);
      const ok = await call(token);
      expect(ok.status).toBe(200);
      const body = (await ok.json()) as { ok: boolean; value: { events: number } };
      expect(body.ok).toBe(true);
      expect(body.value.events).toBeGreaterThan(5900);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it("bisect finds the demo's planted bug: the first event after which an order's total is negative", async () => {
    const r = await cli(['bisect', demo, '--streams', 'Order-*', '--where', 'total < 0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`first holds at seq \\d+ \\(${plantedStream} version \\d+\\): RefundIssued`),
    );
    expect(r.stdout).toMatch(/"retry":true/);
    const js = await cli(['bisect', demo, '--stream', plantedStream, '--js', '--where', 'state.total < 0']);
    expect(js.code, js.stderr).toBe(0);
    expect(js.stdout).toMatch(/first holds at seq \d+ .*: RefundIssued/);
    const bad = await cli(['bisect', demo, '--stream', plantedStream, '--js', '--where', 'state.total <']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/syntax error/);
  });

  it('a damaged active segment: open names the fix, repair cuts the line out and names the lost seq, verify is clean', async () => {
    const { readdirSync: ls, readFileSync: read, writeFileSync: write } = await import('node:fs');
    const store = join(tmp.dir, 'damaged');
    const lines = Array.from({ length: 5 }, (_, i) =>
      JSON.stringify({ stream: 'D-1', type: 'T', data: { i } }),
    ).join('\n');
    expect((await cli(['append', store], `${lines}\n`)).code).toBe(0);
    const seg = join(
      store,
      'segments',
      ls(join(store, 'segments')).find((f) => f.endsWith('.jsonl'))!,
    );
    const text = read(seg, 'utf8').split('\n');
    text[2] = text[2]!.replace('{"seq"', '{#seq'); // the third event's line is no longer JSON
    write(seg, text.join('\n'));
    const refused = await cli(['query', store]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/at byte \d+.*chronoscope repair/s);
    const r = await cli(['repair', store]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/LOST 1 events: seqs 3/);
    const v = await cli(['verify', store]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toMatch(/lost/);
    const q = await cli(['query', store, '-f', 'jsonl']);
    expect(
      q.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).data.i),
    ).toEqual([0, 1, 3, 4]);
    expect((await cli(['repair', store])).stdout).toMatch(/nothing to repair/);
  });

  it('histogram draws the filtered events per time bucket and its counts add up', async () => {
    const all = await cli(['histogram', demo, '-b', '12', '--json']);
    const h = JSON.parse(all.stdout) as { counts: number[]; total: number };
    expect(h.total).toBeGreaterThan(5900);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(h.total);
    const placed = await cli(['histogram', demo, '--type', 'OrderPlaced']);
    expect(placed.stdout).toMatch(/█/);
    expect(placed.stdout).toMatch(/\d+ events, \d+ buckets of \d+ s/);
  });

  it('schema prints a JSON Schema describing the config keys', async () => {
    const r = await cli(['schema']);
    const s = JSON.parse(r.stdout);
    expect(s.properties.backend.enum).toEqual(['file', 'memory']);
    expect(s.properties.file.properties.segmentMaxBytes).toBeDefined();
  });
});
