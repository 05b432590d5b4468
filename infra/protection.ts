/**
 * Stateful resources survive refactors and destroys: one stack transform applies `protect`
 * and `retainOnDelete` (per config.protection) to every resource type that holds data, so no
 * component can forget it.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "./config";

/**
 * Resource types that hold data the platform cannot recreate. The transformation protects them
 * and the `stateful-resources-protected` policy checks them: one list for both.
 */
export const STATEFUL_TYPES: ReadonlySet<string> = new Set([
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketV2:BucketV2",
  "aws:kms/key:Key",
  "aws:ecr/repository:Repository",
  "aws:rds/instance:Instance",
  "aws:rds/cluster:Cluster",
  "aws:elasticache/replicationGroup:ReplicationGroup",
  "aws:elasticache/cluster:Cluster",
  "aws:ebs/volume:Volume",
  "aws:efs/fileSystem:FileSystem",
  "aws:dynamodb/table:Table",
  "aws:secretsmanager/secret:Secret",
  "kubernetes:core/v1:PersistentVolumeClaim",
  "kubernetes:core/v1:PersistentVolume",
  "vault:kv/secretV2:SecretV2",
]);

/**
 * An SDK-side stack transformation (not an engine-side transform), so that it applies the same
 * way under the Pulumi CLI and on the mock runtime that the offline plan and the tests use.
 */
export function protectionTransformation(p: PlatformConfig["protection"]): pulumi.ResourceTransformation {
  return (args) => {
    if (!STATEFUL_TYPES.has(args.type)) return undefined;
    return {
      props: args.props,
      opts: pulumi.mergeOptions(args.opts, {
        ...(p.protect ? { protect: true } : {}),
        ...(p.retainOnDelete ? { retainOnDelete: true } : {}),
      }),
    };
  };
}
