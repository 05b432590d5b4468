/**
 * Generates the evaluation fixture (deterministic; rerun after changing the chunker or the
 * templates, and commit the output):
 *   eval/corpus.jsonl    one runbook document per line (markdown), ~48 documents
 *   eval/questions.json  questions with the ids of the chunks that answer them
 *
 *   npx vitest run test/eval.test.ts   # uses the committed files
 *   ../../node_modules/.bin/tsx eval/generate.ts   # from services/rag: regenerates them
 *
 * The corpus is an invented company's service runbooks: every document has the same six
 * sections (overview, deployment, data, on-call, runbook, dependencies) with different
 * facts, so retrieval has to find the right service AND the right section among many
 * near-identical distractors. Questions paraphrase the section they ask about.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chunkId, chunkText } from '../src/pipeline/chunker.js';

export const EVAL_TENANT = 'eval';
export const EVAL_CHUNKING = { maxTokens: 300, overlapTokens: 40 } as const;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SERVICES = [
  'ledger', 'invoice-renderer', 'payment-router', 'fraud-scorer', 'search-indexer', 'catalog-api', 'cart-service', 'checkout-orchestrator',
  'inventory-sync', 'pricing-engine', 'recommendation-feed', 'notification-hub', 'email-dispatcher', 'sms-relay', 'identity-provider', 'session-store',
  'audit-trail', 'feature-flags', 'config-broker', 'metrics-gateway', 'log-shipper', 'trace-collector', 'image-resizer', 'video-transcoder',
  'document-ocr', 'translation-proxy', 'geo-locator', 'tax-calculator', 'shipping-quotes', 'warehouse-planner', 'returns-portal', 'loyalty-points',
  'coupon-validator', 'customer-profile', 'consent-manager', 'data-exporter', 'report-builder', 'scheduler', 'webhook-fanout', 'rate-limiter',
  'secrets-rotator', 'backup-coordinator', 'model-registry', 'embedding-batcher', 'chat-frontend', 'support-tickets', 'kb-publisher', 'status-page',
];
const TEAMS = ['Payments Core', 'Storefront', 'Growth', 'Trust and Safety', 'Identity', 'Observability', 'Media', 'Logistics', 'Data Platform', 'Developer Experience', 'Machine Learning', 'Customer Care'];
const LANGS = ['Go', 'Rust', 'Kotlin', 'TypeScript', 'Python', 'Java'];
const REGIONS = ['eu-west-1', 'us-east-1', 'us-west-2', 'ap-southeast-2', 'eu-central-1'];
const STORES = ['PostgreSQL', 'DynamoDB', 'Redis', 'S3', 'Cassandra', 'Elasticsearch', 'Kafka'];
const ROTATIONS = ['primary-sre', 'payments-oncall', 'storefront-oncall', 'platform-night-shift', 'data-oncall', 'ml-oncall', 'edge-oncall'];
const SYMPTOMS = [
  ['the queue depth keeps growing', 'scale the consumers to twice their replicas and check for a poison message in the dead-letter queue'],
  ['p99 latency exceeds two seconds', 'drain the slowest availability zone and flush the connection pool'],
  ['the error rate spikes after a deploy', 'roll back to the previous image digest with the deploy tool and open an incident'],
  ['memory usage climbs until pods are OOM-killed', 'lower the cache size flag and restart the pods one at a time'],
  ['disk usage on the database passes 85 percent', 'run the vacuum job and extend the volume by 100 GiB'],
  ['certificates are about to expire', 'trigger the cert-manager renewal and reload the sidecars'],
  ['the upstream returns HTTP 429 throttling errors', 'enable the backoff flag and request a quota increase from the provider'],
  ['messages are processed twice', 'enable idempotency keys and replay from the last committed offset'],
];

export interface EvalDoc {
  readonly id: string;
  readonly title: string;
  readonly text: string;
  readonly metadata: Record<string, string | number>;
}

export interface EvalQuestion {
  readonly id: string;
  readonly question: string;
  readonly docId: string;
  readonly section: string;
  readonly relevant: string[];
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

export function generate(): { docs: EvalDoc[]; questions: EvalQuestion[] } {
  const r = rng(20261202);
  const docs: EvalDoc[] = [];
  const questions: EvalQuestion[] = [];
  SERVICES.forEach((svc, i) => {
    const team = TEAMS[i % TEAMS.length] as string;
    const lang = pick(r, LANGS);
    const region = pick(r, REGIONS);
    const replicas = 2 + Math.floor(r() * 10);
    const port = 7000 + Math.floor(r() * 2000);
    const store = pick(r, STORES);
    const snapHours = pick(r, [1, 4, 6, 12, 24]);
    const keepDays = pick(r, [7, 14, 30, 90, 365]);
    const rotation = pick(r, ROTATIONS);
    const ack = pick(r, [5, 10, 15, 30]);
    const [symptom, fix] = pick(r, SYMPTOMS) as [string, string];
    const deps = [pick(r, SERVICES), pick(r, SERVICES)].filter((d) => d !== svc);
    const cpu = pick(r, ['250m', '500m', '1', '2']);
    const slo = pick(r, ['99.5', '99.9', '99.95']);
    const title = `${svc} runbook`;
    const sections: Record<string, string> = {
      Overview: `The ${svc} service is owned by the ${team} team and written in ${lang}. It exists to ${purpose(svc)}. Its availability objective is ${slo} percent over 30 days.`,
      Deployment: `${svc} runs in ${region} with ${replicas} replicas behind the internal load balancer and serves traffic on port ${port}. Each pod requests ${cpu} CPU. Releases go out through the canary pipeline during business hours only.`,
      'Data and backups': `State for ${svc} lives in ${store}. Snapshots are taken every ${snapHours} hours and retained for ${keepDays} days; restores are rehearsed each quarter by the ${team} team.`,
      'On-call': `Incidents for ${svc} page the ${rotation} rotation, which must acknowledge within ${ack} minutes. If nobody acknowledges, the page escalates to the ${team} engineering manager.`,
      Runbook: `When ${symptom} on ${svc}, ${fix}. Record the action in the incident channel and attach the dashboard link.`,
      Dependencies: `${svc} calls ${deps.join(' and ') || 'no other internal service'} and publishes events that downstream consumers read. A failure in a dependency degrades ${svc} but must not take it down.`,
    };
    const text = `# ${title}\n\n${Object.entries(sections).map(([h, b]) => `## ${h}\n\n${b}`).join('\n\n')}\n`;
    const id = `runbook-${svc}`;
    docs.push({ id, title, text, metadata: { team, region, language: lang } });
    const chunks = chunkText(text, EVAL_CHUNKING);
    const idOf = (section: string): string[] =>
      chunks.filter((c) => c.text.startsWith(`${title} > ${section}\n`)).map((c) => chunkId(EVAL_TENANT, id, c.text));
    const ask = (section: string, question: string): void => {
      const rel = idOf(section);
      if (rel.length === 0) throw new Error(`no chunk for ${id} ${section}`);
      questions.push({ id: `q${questions.length + 1}`, question, docId: id, section, relevant: rel });
    };
    // Two questions per service for the first 30 services, paraphrasing different sections.
    if (i < 30) {
      const templates: Array<[string, string]> = [
        ['Overview', `Which team is responsible for ${svc}?`],
        ['Deployment', `What port does ${svc} listen on and in which region is it deployed?`],
        ['Data and backups', `How often are backups of ${svc} taken and how long are they kept?`],
        ['On-call', `Who gets paged when ${svc} has an incident?`],
        ['Runbook', `What should I do if ${symptom} on ${svc}?`],
        ['Dependencies', `Which internal services does ${svc} depend on?`],
      ];
      const a = templates[i % templates.length] as [string, string];
      const b = templates[(i + 3) % templates.length] as [string, string];
      ask(a[0], a[1]);
      ask(b[0], b[1]);
    }
  });
  return { docs, questions };
}

function purpose(svc: string): string {
  const words = svc.split('-');
  return `handle ${words.join(' ')} requests for the rest of the platform`;
}

if (process.argv[1] !== undefined && /generate\.(ts|js|cjs)$/.test(process.argv[1])) {
  const { docs, questions } = generate();
  const dir = resolve('eval'); // run from services/rag
  writeFileSync(join(dir, 'corpus.jsonl'), `${docs.map((d) => JSON.stringify(d)).join('\n')}\n`);
  writeFileSync(join(dir, 'questions.json'), `${JSON.stringify(questions, null, 1)}\n`);
  process.stdout.write(`wrote ${docs.length} documents and ${questions.length} questions\n`);
}
