import cliProgress from 'cli-progress';

/** A progress bar on stderr when it is a terminal; otherwise a line every few seconds, so logs stay readable. */
export function progressBar(
  label: string,
  total: number,
  unit = 'events',
): { update(n: number, extra?: string): void; stop(): void } {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate}/s | eta {eta_formatted} {extra}`,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    const t0 = Date.now();
    bar.start(total, 0, { rate: 0, extra: '' });
    return {
      update: (n, extra = '') =>
        bar.update(Math.min(n, total), {
          rate: Math.round(n / Math.max(0.001, (Date.now() - t0) / 1000)),
          extra,
        }),
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  return {
    update: (n, extra = '') => {
      if (Date.now() - last < 3000) return;
      last = Date.now();
      process.stderr.write(`${label}: ${n}/${total} ${unit}${extra ? ` ${extra}` : ''}\n`);
    },
    stop: () => {},
  };
}
