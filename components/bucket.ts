/**
 * PrivateBucket: an S3 bucket the way the platform keeps data: encrypted at rest (SSE-S3 with
 * bucket keys), every public-access block on, object ownership enforced (no ACLs), TLS-only
 * access, versioning optional. Stateful: the protection transformation applies protect /
 * retainOnDelete to the bucket per environment.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policyDocument, type PolicyDocument, type PolicyStatement } from "./iam";

/** Deny any request that is not over TLS, plus the bucket's own grants. */
export function tlsOnlyBucketPolicy(bucketArn: string, extra: readonly PolicyStatement[] = []): PolicyDocument {
  return policyDocument(
    {
      Sid: "DenyInsecureTransport",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: "s3:*",
      Resource: [bucketArn, `${bucketArn}/*`],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    },
    ...extra,
  );
}

export interface PrivateBucketArgs {
  readonly bucketName: pulumi.Input<string>;
  readonly versioning: boolean;
  /** Days after which noncurrent versions expire (with versioning). */
  readonly noncurrentVersionDays?: number;
  /** Days after which objects expire (logs). */
  readonly expirationDays?: number;
  /** More bucket-policy statements (e.g. log delivery), given the bucket ARN. */
  readonly extraStatements?: pulumi.Input<readonly PolicyStatement[]> | ((bucketArn: string) => pulumi.Input<readonly PolicyStatement[]>);
}

export class PrivateBucket extends pulumi.ComponentResource {
  public readonly bucket: aws.s3.Bucket;
  public readonly arn: pulumi.Output<string>;
  public readonly name: pulumi.Output<string>;

  constructor(name: string, args: PrivateBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:storage:PrivateBucket", name, {}, opts);
    const child = { parent: this };
    this.bucket = new aws.s3.Bucket(`${name}`, { bucket: args.bucketName, forceDestroy: false }, child);
    const b = this.bucket.bucket;
    new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-sse`, { bucket: b, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }] }, child);
    new aws.s3.BucketPublicAccessBlock(`${name}-pab`, { bucket: b, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, child);
    new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: b, rule: { objectOwnership: "BucketOwnerEnforced" } }, child);
    const extra = args.extraStatements;
    const policy = this.bucket.arn.apply((arn) =>
      pulumi.output(typeof extra === "function" ? extra(arn) : (extra ?? [])).apply((stmts) => JSON.stringify(tlsOnlyBucketPolicy(arn, stmts as PolicyStatement[]))),
    );
    new aws.s3.BucketPolicy(`${name}-tls-only`, { bucket: b, policy }, child);
    if (args.versioning) {
      new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: b, versioningConfiguration: { status: "Enabled" } }, child);
    }
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket: b,
        rules: [
          { id: "abort-incomplete-uploads", status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } },
          ...(args.versioning ? [{ id: "expire-noncurrent", status: "Enabled", filter: {}, noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionDays ?? 30 } }] : []),
          ...(args.expirationDays ? [{ id: "expire", status: "Enabled", filter: {}, expiration: { days: args.expirationDays } }] : []),
        ],
      },
      child,
    );
    this.arn = this.bucket.arn;
    this.name = b;
    this.registerOutputs({ name: this.name, arn: this.arn });
  }
}
