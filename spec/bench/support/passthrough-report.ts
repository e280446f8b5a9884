import {
  CONNECTIONS,
  GOAL_ADDED_P99_MS,
  type Measured,
  PIPE_NAME,
  type Plan,
  type Target,
  WARMUP_SECONDS,
  WORKERS_NAME,
  WORKLOADS,
  type Workload,
} from './passthrough-setup';
import { formatNumber, formatSpread, formatVerdict, type Section, type Table } from './report';
import { median, spreadOf } from './stats';

export function describePeaks(
  targets: Target[],
  peaks: Map<string, Measured[]>,
  plan: Plan,
  skipped: string[],
): Section {
  const figures = (workload: Workload, target: Target) =>
    peaks.get(`${workload.name}|${target.name}`) ?? [];
  const tables = WORKLOADS.map(
    (workload): Table => ({
      head: [workload.name, 'requests/s', 'p50', 'p99', 'CPU per request', 'failed'],
      rows: targets.map((target) => {
        const runs = figures(workload, target);
        return [
          target.name,
          formatSpread(spreadOf(runs.map((r) => r.requestsPerSecond)), 0),
          formatSpread(spreadOf(runs.map((r) => r.p50Ms)), 2, ' ms'),
          formatSpread(spreadOf(runs.map((r) => r.p99Ms)), 2, ' ms'),
          target.pid ? formatSpread(spreadOf(runs.map((r) => r.cpuUsPerRequest)), 0, ' µs') : '–',
          String(runs.reduce((sum, r) => sum + r.failed, 0)),
        ];
      }),
    }),
  );

  // Ratios within a round, so that both sides of each ratio saw the same machine.
  const ratioOf = (workload: Workload, mine: Target, other: Target) => {
    const theirs = figures(workload, other).map((r) => r.requestsPerSecond);
    return median(figures(workload, mine).map((r, i) => r.requestsPerSecond / theirs[i]));
  };
  const proxies = targets.filter((t) => t.name.startsWith('pve-clone-proxy'));
  const fronts = targets.slice(1).filter((t) => !proxies.includes(t));
  const reading: string[] = [];
  for (const workload of WORKLOADS) {
    for (const proxy of proxies) {
      const parts = fronts.map(
        (other) => `${formatNumber(ratioOf(workload, proxy, other), 2)}× the rate of ${other.name}`,
      );
      reading.push(
        `${workload.name}: ${proxy.name} passes ${formatNumber(ratioOf(workload, proxy, targets[0]) * 100)} % of the rate the double reaches alone${parts.length ? `, ${parts.join(', ')}` : ''}.`,
      );
    }
  }
  const caddy = targets.find((t) => t.name.startsWith('Caddy'));
  if (caddy) {
    const ratios = proxies.map((proxy) => ({ proxy, ratio: ratioOf(WORKLOADS[0], proxy, caddy) }));
    const best = ratios.reduce((a, b) => (b.ratio > a.ratio ? b : a));
    const listed = ratios.map((r) => `${r.proxy.name} ${formatNumber(r.ratio, 2)}×`).join(', ');
    reading.push(
      `Goal: proxy throughput ≥ Caddy's (GET): ${listed}; ${formatVerdict(best.ratio >= 1)}${best.ratio >= 1 ? `, by ${best.proxy.name}` : ''}.`,
    );
  }
  const cpu = (target: Target) =>
    median(figures(WORKLOADS[0], target).map((r) => r.cpuUsPerRequest));
  reading.push(
    `CPU per GET: ${formatNumber(cpu(targets[1]))} µs in the proxy against ${formatNumber(cpu(targets[0]))} µs in the double that answers it; on two cores shared by the load generator, the server under test and the double, that CPU time is what bounds the rate.`,
  );
  const pipe = targets.find((t) => t.name === PIPE_NAME);
  if (pipe) {
    const extra = cpu(targets[1]) - cpu(pipe);
    reading.push(
      `Against the ${PIPE_NAME} (one keep-alive agent, the request piped up and the answer down, nothing checked): the proxy spends ${formatNumber(extra)} µs more CPU per GET (${formatNumber((extra / cpu(pipe)) * 100)} % more) and passes ${formatNumber(ratioOf(WORKLOADS[0], targets[1], pipe), 2)}× its rate. What is left is Node.js's own HTTP server and client, which both share; a second core (the workers row) is the lever, not more trimming.`,
    );
  }
  const putDirect = median(figures(WORKLOADS[1], targets[0]).map((r) => r.requestsPerSecond));
  const putProxy = median(figures(WORKLOADS[1], targets[1]).map((r) => r.requestsPerSecond));
  if (putProxy > 0.7 * putDirect) {
    reading.push(
      `The PUT rows show the double's limit more than the fronts': it takes ${formatNumber(putDirect)} such PUTs per second on its own, so every front reaches about as much; a front's own cost for large bodies only shows once the double is faster than the fronts.`,
    );
  }
  const nginx = targets.find((t) => t.name.startsWith('nginx'));
  const nginxFailed = nginx
    ? WORKLOADS.flatMap((w) => figures(w, nginx)).reduce((sum, r) => sum + r.failed, 0)
    : 0;
  if (nginxFailed > 0) {
    reading.push(
      `nginx's ${nginxFailed} failures are connections it closes after its default 1,000 requests each (\`keepalive_requests\`), with a request already sent on them; autocannon counts those as errors.`,
    );
  }
  for (const line of skipped) reading.push(`Not measured: ${line}.`);

  return {
    title: 'Passthrough',
    method: `autocannon 9.0.0 at ${CONNECTIONS} keep-alive connections for ${plan.seconds} s after a ${WARMUP_SECONDS} s warm-up (${plan.firstWarmupSeconds} s the first time for each target), ${plan.getRounds} round(s) for GET and ${plan.putRounds} for PUT, targets taking turns within each round; every server in its own process, the load generator in another. Latency is per request, to a hundredth of a millisecond (autocannon's own histogram keeps whole milliseconds). CPU per request is the server process's user + system time over the run (from /proc) divided by the answers; nginx and Caddy run several processes or threads and are left out. Figures: median of the rounds (min–max). The GET carries the test API token; the PUT is a 64 KiB form body (\`description=xxx…\`).`,
    tables,
    reading,
  };
}

export function describePaced(
  targets: Target[],
  paced: Map<string, Measured[]>,
  rates: Map<string, number>,
  proxyPeak: number,
  plan: Plan,
): Section {
  const rate = rates.get(targets[1].name) ?? 0;
  /** Rows paced at their own half peak name their rate; their added p99 has no direct twin. */
  const ownRate = (target: Target) => (rates.get(target.name) ?? rate) !== rate;
  const runsOf = (target: Target) => paced.get(target.name) ?? [];
  const direct = runsOf(targets[0]);
  const addedOf = (target: Target) => runsOf(target).map((r, i) => r.p99Ms - direct[i].p99Ms);
  const table: Table = {
    head: [
      `${rate} GET/s, paced`,
      'p50',
      'p99',
      'p99 added to direct',
      'CPU per request',
      'schedule slip p99',
      'failed',
    ],
    rows: targets.map((target) => {
      const runs = runsOf(target);
      return [
        ownRate(target) ? `${target.name} (at ${rates.get(target.name)} GET/s)` : target.name,
        formatSpread(spreadOf(runs.map((r) => r.p50Ms)), 2, ' ms'),
        formatSpread(spreadOf(runs.map((r) => r.p99Ms)), 2, ' ms'),
        target === targets[0] || ownRate(target)
          ? ''
          : formatSpread(spreadOf(addedOf(target)), 2, ' ms'),
        target.pid ? formatSpread(spreadOf(runs.map((r) => r.cpuUsPerRequest)), 0, ' µs') : '–',
        formatSpread(spreadOf(runs.map((r) => r.lateP99Ms ?? Number.NaN)), 2, ' ms'),
        String(runs.reduce((sum, r) => sum + r.failed, 0)),
      ];
    }),
  };
  const added = median(addedOf(targets[1]));
  const pipe = targets.find((t) => t.name === PIPE_NAME);
  const cpuOf = (target: Target) => median(runsOf(target).map((r) => r.cpuUsPerRequest));
  const pipeLine = pipe
    ? [
        `The ${PIPE_NAME} at the same rate adds ${formatNumber(median(addedOf(pipe)), 2)} ms at p99 (the proxy ${formatNumber(added, 2)} ms) and spends ${formatNumber(cpuOf(pipe))} µs of CPU per request (the proxy ${formatNumber(cpuOf(targets[1]))} µs): ${formatNumber((rate * cpuOf(pipe)) / 1e4)} % of a core against ${formatNumber((rate * cpuOf(targets[1])) / 1e4)} %.`,
      ]
    : [];
  const coreShare = (rate * median(runsOf(targets[1]).map((r) => r.cpuUsPerRequest))) / 1e6;
  return {
    title: 'Latency at half of the proxy’s peak',
    method: `${rate} GET/s (half of the proxy's median peak of ${formatNumber(proxyPeak)} req/s), ${plan.pacedSeconds} s per target and round, ${plan.pacedRounds} round(s), the ${WORKERS_NAME} row at half of its own peak instead, sent at a steady pace by a small open-loop generator (undici, ${CONNECTIONS} connections): request i leaves at i / rate whether or not earlier ones are back. autocannon's \`overallRate\` is not used because it sends each connection's quota for a second in a burst at the start of that second. Latency runs from a request leaving the generator to its answer; "schedule slip" shows how late requests left, i.e. whether the generator kept the pace.`,
    tables: [table],
    reading: [
      `Goal: p99 added by the proxy under ${GOAL_ADDED_P99_MS} ms at half its peak: ${formatNumber(added, 2)} ms, ${formatVerdict(added < GOAL_ADDED_P99_MS)}.`,
      ...pipeLine,
      `At this rate the proxy spends more CPU per request than at its peak (no batching of reads and writes): ${formatNumber(coreShare * 100)} % of a core, on a machine whose two cores also run the generator, the double and anything else; where that approaches a whole core, requests queue and the tail grows.`,
    ],
  };
}
