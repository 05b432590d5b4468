/**
 * The gateway's datastores, each in private subnets behind a security group that admits only
 * the cluster (the EKS-managed cluster security group, which every node carries).
 *
 * - PostgreSQL on RDS: LiteLLM's keys, teams and spend. Encrypted, Multi-AZ per env, automated
 *   backups, deletion protection and a final snapshot outside dev. Credentials: a static
 *   password generated into Vault (see docs/gateway.md for why not Vault's database engine).
 * - Redis on ElastiCache: LiteLLM's rate-limit counters and response cache. Encryption in
 *   transit and at rest, an AUTH token from Vault, replication with automatic failover per env.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ENGINES } from "../infra/catalog/versions";
import type { PlatformConfig } from "../infra/config";

export const POSTGRES_PORT = 5432;
export const REDIS_PORT = 6379;
export const DATABASE_NAME = "litellm";

type Edge = PlatformConfig["edge"];

export interface DatastoreNetwork {
  readonly vpcId: pulumi.Input<string>;
  readonly privateSubnetIds: pulumi.Input<string>[];
  /** The only source allowed in: the EKS-managed cluster security group. */
  readonly clusterSecurityGroupId: pulumi.Input<string>;
}

export function rdsInstanceArgs(
  db: Edge["database"],
  s: { identifier: string; subnetGroup: pulumi.Input<string>; securityGroupId: pulumi.Input<string>; username: pulumi.Input<string>; password: pulumi.Input<string> },
): aws.rds.InstanceArgs {
  const keep = db.finalSnapshot;
  return {
    identifier: s.identifier,
    engine: ENGINES.postgres.engine,
    engineVersion: ENGINES.postgres.version,
    autoMinorVersionUpgrade: true,
    instanceClass: db.instanceClass,
    allocatedStorage: db.allocatedStorageGiB,
    maxAllocatedStorage: db.allocatedStorageGiB * 4,
    storageType: "gp3",
    storageEncrypted: true,
    multiAz: db.multiAz,
    dbName: DATABASE_NAME,
    username: s.username,
    password: s.password,
    dbSubnetGroupName: s.subnetGroup,
    vpcSecurityGroupIds: [s.securityGroupId],
    publiclyAccessible: false,
    backupRetentionPeriod: db.backupRetentionDays,
    deletionProtection: db.deletionProtection,
    skipFinalSnapshot: !keep,
    ...(keep ? { finalSnapshotIdentifier: `${s.identifier}-final` } : {}),
    copyTagsToSnapshot: true,
    performanceInsightsEnabled: true,
    caCertIdentifier: "rds-ca-rsa2048-g1",
  };
}

export function replicationGroupArgs(
  cache: Edge["cache"],
  s: { id: string; subnetGroup: pulumi.Input<string>; securityGroupId: pulumi.Input<string>; authToken: pulumi.Input<string> },
): aws.elasticache.ReplicationGroupArgs {
  const failover = cache.automaticFailover;
  return {
    replicationGroupId: s.id,
    description: "LiteLLM rate limits and response cache",
    engine: ENGINES.redis.engine,
    engineVersion: ENGINES.redis.version,
    nodeType: cache.nodeType,
    numCacheClusters: 1 + cache.replicasPerShard,
    automaticFailoverEnabled: failover,
    multiAzEnabled: failover,
    port: REDIS_PORT,
    subnetGroupName: s.subnetGroup,
    securityGroupIds: [s.securityGroupId],
    atRestEncryptionEnabled: true,
    transitEncryptionEnabled: true,
    authToken: s.authToken,
    snapshotRetentionLimit: cache.snapshotRetentionDays,
    autoMinorVersionUpgrade: true,
  };
}

function clusterOnlySecurityGroup(name: string, description: string, port: number, net: DatastoreNetwork, opts: pulumi.CustomResourceOptions): aws.ec2.SecurityGroup {
  return new aws.ec2.SecurityGroup(
    name,
    {
      vpcId: net.vpcId,
      description,
      ingress: [{ protocol: "tcp", fromPort: port, toPort: port, securityGroups: [net.clusterSecurityGroupId], description: "from the EKS cluster only" }],
      egress: [],
    },
    opts,
  );
}

export interface DatastoresArgs {
  readonly edge: Edge;
  readonly clusterName: string;
  readonly network: DatastoreNetwork;
  readonly postgres: { readonly username: pulumi.Input<string>; readonly password: pulumi.Input<string> };
  readonly redisAuthToken: pulumi.Input<string>;
}

export class Datastores extends pulumi.ComponentResource {
  public readonly postgresHost: pulumi.Output<string>;
  public readonly redisHost: pulumi.Output<string>;

  constructor(name: string, args: DatastoresArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:edge:Datastores", name, {}, opts);
    const child = { parent: this };
    const net = args.network;

    const dbSg = clusterOnlySecurityGroup(`${name}-postgres`, "LiteLLM PostgreSQL: from the cluster only", POSTGRES_PORT, net, child);
    const dbSubnets = new aws.rds.SubnetGroup(`${name}-postgres`, { subnetIds: net.privateSubnetIds, description: "private subnets" }, child);
    const db = new aws.rds.Instance(
      `${name}-postgres`,
      rdsInstanceArgs(args.edge.database, {
        identifier: `${args.clusterName}-gateway`,
        subnetGroup: dbSubnets.name,
        securityGroupId: dbSg.id,
        username: args.postgres.username,
        password: args.postgres.password,
      }),
      child,
    );
    this.postgresHost = db.address;

    const cacheSg = clusterOnlySecurityGroup(`${name}-redis`, "LiteLLM Redis: from the cluster only", REDIS_PORT, net, child);
    const cacheSubnets = new aws.elasticache.SubnetGroup(`${name}-redis`, { subnetIds: net.privateSubnetIds, description: "private subnets" }, child);
    const cache = new aws.elasticache.ReplicationGroup(
      `${name}-redis`,
      replicationGroupArgs(args.edge.cache, { id: `${args.clusterName}-gw`.slice(0, 40), subnetGroup: cacheSubnets.name, securityGroupId: cacheSg.id, authToken: args.redisAuthToken }),
      child,
    );
    this.redisHost = cache.primaryEndpointAddress;

    this.registerOutputs({ postgresHost: this.postgresHost, redisHost: this.redisHost });
  }
}
