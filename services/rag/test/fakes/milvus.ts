/**
 * A loopback Milvus gRPC server built from the SDK's OWN proto definitions (the proto JSON
 * that @zilliz/milvus2-sdk-node ships and loads with @grpc/proto-loader's fromJSON), so the
 * requests it records are exactly what the SDK puts on the wire. Nothing of the protos is
 * copied into this repository: they are read from node_modules at test time.
 *
 * Every MilvusService method answers: a recorded call, then either a method-specific handler
 * (collections, upsert, delete, query, search, hybrid search, health) or an OK status.
 */
import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import protobuf from 'protobufjs';

// resolved from the package directory (tests and the smoke tool run from services/rag)
const require = createRequire(join(process.cwd(), 'package.json'));
const SDK_PROTO_MILVUS = require('@zilliz/milvus2-sdk-node/dist/milvus/proto-json/milvus') as { default?: unknown };
const SDK_PROTO_SCHEMA = require('@zilliz/milvus2-sdk-node/dist/milvus/proto-json/schema.base') as { default?: unknown };

let packageDef: ReturnType<typeof fromJSON> | undefined;
const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

export interface RecordedCall {
  readonly method: string;
  readonly request: Record<string, any>;
  readonly metadata: Record<string, string>;
}

interface StoredCollection {
  schema: Record<string, any>;
  schemaBytes: Buffer;
  rows: Map<string, Record<string, unknown>>;
  indexes: Array<Record<string, any>>;
}

function snake(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snake);
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v) && !(v instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/([a-z])([A-Z])(?=[a-z])/g, (_m, a: string, b: string) => `${a}_${b.toLowerCase()}`), snake(x)]));
  }
  return v;
}

const OK = { error_code: 'Success', code: 0, reason: '' };

function rowsFromFieldsData(fieldsData: Array<Record<string, any>>, numRows: number): Array<Record<string, unknown>> {
  const rows: Array<Record<string, unknown>> = Array.from({ length: numRows }, () => ({}));
  for (const fd of fieldsData) {
    const name = fd['field_name'] as string;
    let values: unknown[] = [];
    if (fd['field'] === 'scalars') {
      const s = fd['scalars'];
      const kind = s['data'] as string;
      values = s[kind]['data'] as unknown[];
      if (kind === 'json_data') values = values.map((b) => JSON.parse(Buffer.from(b as Uint8Array).toString('utf8')));
      if (kind === 'long_data') values = values.map((v) => Number(v));
    } else if (fd['field'] === 'vectors') {
      const v = fd['vectors'];
      const dim = Number(v['dim']);
      const flat = v['float_vector']['data'] as number[];
      values = Array.from({ length: numRows }, (_, i) => flat.slice(i * dim, (i + 1) * dim));
    }
    values.forEach((val, i) => {
      (rows[i] as Record<string, unknown>)[name] = val;
    });
  }
  return rows;
}

function fieldsDataFor(schema: Record<string, any>, rows: Array<Record<string, unknown>>, outputFields: string[]): Array<Record<string, unknown>> {
  return outputFields.map((name) => {
    const f = (schema['fields'] as Array<Record<string, any>>).find((x) => x['name'] === name);
    if (f === undefined) throw new Error(`fake milvus: unknown output field ${name}`);
    const type = f['data_type'] as string;
    const col = rows.map((r) => r[name]);
    let scalars: Record<string, unknown>;
    if (type === 'VarChar') scalars = { string_data: { data: col.map(String) } };
    else if (type === 'Int64') scalars = { long_data: { data: col.map((v) => String(v)) } };
    else if (type === 'JSON') scalars = { json_data: { data: col.map((v) => Buffer.from(JSON.stringify(v ?? {}))) } };
    else throw new Error(`fake milvus: output of ${type} not supported`);
    return { type, field_name: name, field_id: f['fieldID'], scalars };
  });
}

export class FakeMilvus {
  readonly calls: RecordedCall[] = [];
  readonly collections = new Map<string, StoredCollection>();
  /** ids (and scores) the next Search/HybridSearch returns; default: stored rows in insertion order */
  nextSearch: { ids: string[]; scores: number[] } | undefined;
  /** make a method fail with a gRPC status or a Milvus status */
  failures = new Map<string, { grpcCode?: grpc.status; reason: string }>();
  healthy = true;
  readonly loaded = new Set<string>();
  private server: grpc.Server | undefined;
  private readonly schemaType: protobuf.Type;
  port = 0;

  constructor() {
    const root = protobuf.Root.fromJSON((SDK_PROTO_SCHEMA.default ?? SDK_PROTO_SCHEMA) as protobuf.INamespace);
    this.schemaType = root.lookupType('milvus.proto.schema.CollectionSchema');
  }

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Forget recorded calls, collections and failure settings (the server keeps running). */
  reset(): void {
    this.calls.length = 0;
    for (const c of this.collections.values()) c.rows.clear();
    this.nextSearch = undefined;
    this.failures.clear();
    this.healthy = true;
  }

  async start(): Promise<string> {
    packageDef ??= fromJSON((SDK_PROTO_MILVUS.default ?? SDK_PROTO_MILVUS) as never, LOADER_OPTIONS);
    const def = packageDef;
    const service = def['milvus.proto.milvus.MilvusService'] as unknown as grpc.ServiceDefinition;
    const impl: grpc.UntypedServiceImplementation = {};
    for (const [method, md] of Object.entries(service)) {
      const responseName = (md as unknown as { responseType: { type: { name: string } } }).responseType.type.name;
      impl[method] = (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
        const metadata: Record<string, string> = {};
        for (const [k, v] of Object.entries(call.metadata.getMap())) metadata[k] = String(v);
        this.calls.push({ method, request: call.request as Record<string, any>, metadata });
        const fail = this.failures.get(method);
        if (fail?.grpcCode !== undefined) {
          cb({ code: fail.grpcCode, details: fail.reason } as grpc.ServiceError);
          return;
        }
        if (fail !== undefined) {
          const st = { error_code: 'UnexpectedError', code: 65535, reason: fail.reason };
          cb(null, responseName === 'Status' ? st : { status: st });
          return;
        }
        try {
          const res = this.handle(method, call.request as Record<string, any>);
          cb(null, res ?? (responseName === 'Status' ? OK : { status: OK }));
        } catch (e) {
          cb({ code: grpc.status.INTERNAL, details: (e as Error).message } as grpc.ServiceError);
        }
      };
    }
    this.server = new grpc.Server();
    this.server.addService(service, impl);
    this.port = await new Promise<number>((res, rej) =>
      (this.server as grpc.Server).bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? rej(err) : res(port))),
    );
    return `127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (s === undefined) return;
    await new Promise<void>((res) => s.tryShutdown(() => res()));
    s.forceShutdown();
  }

  /** The decoded CollectionSchema the SDK sent in CreateCollection (schema is protobuf bytes on the wire). */
  decodeSchema(bytes: Buffer): Record<string, any> {
    // The SDK's schema JSON uses protobufjs's camelCase names; the gRPC side (proto-loader,
    // keepCase) uses the proto's snake_case names, so convert.
    return snake(this.schemaType.toObject(this.schemaType.decode(bytes), { enums: String, longs: String, defaults: true })) as Record<string, any>;
  }

  private handle(method: string, req: Record<string, any>): Record<string, unknown> | undefined {
    switch (method) {
      case 'Connect':
        return { status: OK, server_info: { build_tags: 'fake', reserved: {} }, identifier: '1' };
      case 'CheckHealth':
        return { status: OK, isHealthy: this.healthy, reasons: this.healthy ? [] : ['fake: unhealthy'] };
      case 'HasCollection':
        return { status: OK, value: this.collections.has(req['collection_name']) };
      case 'CreateCollection': {
        const name = req['collection_name'] as string;
        if (this.collections.has(name)) return { error_code: 'UnexpectedError', code: 65535, reason: 'collection already exists' };
        const bytes = Buffer.from(req['schema'] as Uint8Array);
        const schema = this.decodeSchema(bytes);
        schema['fields'] = (schema['fields'] as Array<Record<string, any>>).map((f, i) => ({ ...f, fieldID: String(100 + i) }));
        this.collections.set(name, { schema, schemaBytes: bytes, rows: new Map(), indexes: [] });
        return undefined;
      }
      case 'DescribeCollection': {
        const c = this.collections.get(req['collection_name']);
        if (c === undefined) return { status: { error_code: 'CollectionNotExists', code: 100, reason: 'collection not found' } };
        return {
          status: OK,
          schema: c.schema,
          collectionID: '1',
          collection_name: req['collection_name'],
          consistency_level: 'Bounded',
          num_partitions: '64',
          shards_num: 1,
          properties: [],
        };
      }
      case 'CreateIndex': {
        const c = this.collections.get(req['collection_name']);
        c?.indexes.push(req);
        return undefined;
      }
      case 'DescribeIndex': {
        const c = this.collections.get(req['collection_name']);
        return {
          status: OK,
          index_descriptions: (c?.indexes ?? []).map((ix) => ({
            index_name: ix['index_name'],
            field_name: ix['field_name'],
            params: ix['extra_params'],
            state: 'Finished',
          })),
        };
      }
      case 'GetLoadingProgress':
        return { status: OK, progress: '100', refresh_progress: '100' };
      case 'GetLoadState':
        return { status: OK, state: this.loaded.has(req['collection_name']) ? 'LoadStateLoaded' : 'LoadStateNotLoad' };
      case 'LoadCollection':
        this.loaded.add(req['collection_name']);
        return undefined;
      case 'Upsert':
      case 'Insert': {
        const c = this.collections.get(req['collection_name']);
        if (c === undefined) return { status: { error_code: 'CollectionNotExists', code: 100, reason: 'collection not found' } };
        const n = Number(req['num_rows']);
        const rows = rowsFromFieldsData(req['fields_data'], n);
        for (const r of rows) c.rows.set(String(r['id']), r);
        return {
          status: OK,
          IDs: { str_id: { data: rows.map((r) => String(r['id'])) }, id_field: 'str_id' },
          [method === 'Upsert' ? 'upsert_cnt' : 'insert_cnt']: String(n),
          succ_index: rows.map((_, i) => i),
        };
      }
      case 'Delete': {
        const c = this.collections.get(req['collection_name']);
        const expr = String(req['expr']);
        // Only the two shapes the adapter produces are understood here.
        const doc = /doc_id in \["([^"]*)"\]/.exec(expr)?.[1];
        const keep = /not \(id in \[([^\]]*)\]\)/.exec(expr)?.[1];
        const keepIds = keep === undefined ? new Set<string>() : new Set((JSON.parse(`[${keep}]`) as string[]));
        let n = 0;
        for (const [id, r] of [...(c?.rows ?? new Map())]) {
          if (r['doc_id'] === doc && !keepIds.has(id)) {
            c?.rows.delete(id);
            n++;
          }
        }
        return { status: OK, delete_cnt: String(n), IDs: { str_id: { data: [] }, id_field: 'str_id' } };
      }
      case 'Query': {
        const c = this.collections.get(req['collection_name']);
        const doc = /doc_id in \["([^"]*)"\]/.exec(String(req['expr']))?.[1];
        const rows = [...(c?.rows.values() ?? [])].filter((r) => doc === undefined || r['doc_id'] === doc);
        return { status: OK, fields_data: c ? fieldsDataFor(c.schema, rows, req['output_fields'] as string[]) : [], output_fields: req['output_fields'], collection_name: req['collection_name'] };
      }
      case 'Search':
      case 'HybridSearch': {
        const c = this.collections.get(req['collection_name']);
        if (c === undefined) return { status: { error_code: 'CollectionNotExists', code: 100, reason: 'collection not found' } };
        const all = [...c.rows.values()];
        const pick = this.nextSearch ?? { ids: all.map((r) => String(r['id'])), scores: all.map((_, i) => 1 / (i + 1)) };
        const rows = pick.ids.map((id) => c.rows.get(id)).filter((r): r is Record<string, unknown> => r !== undefined);
        const output = req['output_fields'] as string[];
        return {
          status: OK,
          collection_name: req['collection_name'],
          results: {
            num_queries: '1',
            top_k: String(rows.length),
            fields_data: fieldsDataFor(c.schema, rows, output),
            scores: pick.scores.slice(0, rows.length),
            ids: { str_id: { data: rows.map((r) => String(r['id'])) }, id_field: 'str_id' },
            topks: [String(rows.length)],
            output_fields: output,
            primary_field_name: 'id',
          },
        };
      }
      default:
        return undefined;
    }
  }
}
