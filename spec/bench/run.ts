import { writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { benchClonePipeline } from './clone-pipeline.bench';
import { benchPassthrough } from './passthrough.bench';
import { benchQueueScale } from './queue-scale.bench';
import { benchStartUp } from './start-up.bench';
import { CADDY, NGINX } from './support/fronts';
import { renderMarkdown, renderText, type Section } from './support/report';

const ROOT = join(__dirname, '..', '..');
const SCENARIOS = ['pipeline', 'passthrough', 'queue', 'start-up'] as const;
type Scenario = (typeof SCENARIOS)[number];

const USAGE = `usage: npm run bench [-- --quick] [-- --only ${SCENARIOS.join(',')}] [-- --out FILE]
  full run (about 6 minutes): writes docs/benchmarks.md
  --quick  about a minute, shorter runs; prints only, unless --out is given
  --only   some scenarios; prints only, unless --out is given`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  const chosen = (values.only?.split(',') ?? [...SCENARIOS]) as Scenario[];
  const unknown = chosen.filter((name) => !SCENARIOS.includes(name));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}\n${USAGE}`);
  const quick = values.quick;
  const out =
    values.out ?? (quick || values.only ? undefined : join(ROOT, 'docs', 'benchmarks.md'));

  const startedAt = new Date();
  const loadBefore = loadavg();
  const log = (line: string) => process.stderr.write(`[${elapsed(startedAt)}] ${line}\n`);
  const runners: Record<Scenario, () => Promise<Section[]>> = {
    pipeline: async () => [await benchClonePipeline({ quick, log })],
    passthrough: () => benchPassthrough({ quick, root: ROOT, log }),
    queue: async () => [await benchQueueScale({ log })],
    'start-up': async () => [await benchStartUp({ quick, root: ROOT, log })],
  };

  const sections: Section[] = [];
  for (const name of chosen) {
    let found: Section[];
    try {
      found = await runners[name]();
    } catch (error) {
      log(`${name} failed: ${(error as Error).stack}`);
      found = [failedSection(name, error as Error)];
    }
    for (const section of found) process.stdout.write(`\n${renderText(section)}`);
    sections.push(...found);
  }

  const command = ['npm run bench', ...process.argv.slice(2).map(quote)].join(
    process.argv.length > 2 ? ' -- ' : '',
  );
  log(`done in ${elapsed(startedAt)}`);
  if (!out) return;
  writeFileSync(out, renderDocument(sections, { startedAt, loadBefore, command, quick }));
  log(`wrote ${out}`);
}

function failedSection(name: string, error: Error): Section {
  return {
    title: `${name} (not measured)`,
    method: 'The scenario failed before it had figures:',
    tables: [],
    reading: [`\`${error.message.split('\n')[0]}\``],
  };
}

function renderDocument(
  sections: Section[],
  run: { startedAt: Date; loadBefore: number[]; command: string; quick: boolean },
): string {
  const cores = cpus();
  const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(' / ');
  const head = [
    '# Benchmarks',
    '',
    'Written by `spec/bench/run.ts`; re-run it rather than editing the figures by hand.',
    '',
    `- **Date**: ${run.startedAt.toISOString()} (took ${elapsed(run.startedAt)})`,
    `- **Command**: \`${run.command}\`${run.quick ? ' (quick mode: shorter runs, fewer rounds, clone tasks scaled by 0.25; not comparable with the goals)' : ''}`,
    `- **Machine**: ${cores.length} × ${cores[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${type()} ${release()}, Node.js ${process.version}`,
    `- **Load average** (1 / 5 / 15 min) at start: ${load(run.loadBefore)}; at end: ${load(loadavg())}. The machine is shared: anything else running shows up as spread.`,
    `- **Tools**: autocannon 9.0.0, ${NGINX.version}, Caddy ${CADDY.version}`,
    '',
    '## How to run',
    '',
    '```sh',
    'apt-get install -y --no-install-recommends nginx-light caddy   # the fronts to compare with',
    'npm run bench                # about 6 minutes; writes this file',
    'npm run bench -- --quick     # about a minute; prints only',
    'npm run bench -- --only queue,start-up',
    '```',
    '',
    'Every server (the PVE double, the proxy, nginx, Caddy) and the load generator run in',
    'processes of their own, all on 127.0.0.1. A figure given as `a (b–c)` is the median of',
    'several runs and their range; ratios are taken within one round, so that both sides saw',
    'the same machine.',
    '',
  ];
  return `${[...head, ...sections.map(renderMarkdown)].join('\n').trimEnd()}\n`;
}

function elapsed(since: Date): string {
  const seconds = Math.round((Date.now() - since.getTime()) / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

function quote(arg: string): string {
  return /^[\w,./=-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

main().then(
  // The children are gone by now; a stray handle must not keep the run open.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  },
);
