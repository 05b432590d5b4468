/**
 * The image of a service we ship (services/safety, services/rag): built with @pulumi/docker-build
 * from its folder and pushed to an ECR repository the stack owns (immutable tags, scan on push,
 * the last 20 images kept), tagged with a hash of the build context and deployed by digest
 * (`image.ref`); or, with `source: registry`, a pinned reference from config.
 */
import * as aws from "@pulumi/aws";
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";

export type ImageSource = { readonly source: "build" } | { readonly source: "registry"; readonly ref: string };

export interface ServiceImageArgs {
  readonly image: ImageSource;
  /** The ECR repository: <cluster>/<service>. */
  readonly repositoryName: string;
  readonly sourceDir: string;
  /** A hash of the build context (safety.ts contextHash): the tag changes exactly when the code does. */
  readonly contextHash: string;
}

/** The image reference to deploy: the built image by digest, or the configured registry ref. */
export function serviceImage(name: string, a: ServiceImageArgs, opts: pulumi.CustomResourceOptions): pulumi.Output<string> {
  if (a.image.source === "registry") return pulumi.output(a.image.ref);
  const repo = new aws.ecr.Repository(
    `${name}-repo`,
    { name: a.repositoryName, imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true }, encryptionConfigurations: [{ encryptionType: "AES256" }], forceDelete: false },
    opts,
  );
  new aws.ecr.LifecyclePolicy(
    `${name}-repo`,
    { repository: repo.name, policy: JSON.stringify({ rules: [{ rulePriority: 1, description: "keep the last 20 images", selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 20 }, action: { type: "expire" } }] }) },
    opts,
  );
  const auth = aws.ecr.getAuthorizationTokenOutput({ registryId: repo.registryId }, opts);
  const image = new dockerBuild.Image(
    `${name}-image`,
    {
      context: { location: a.sourceDir },
      dockerfile: { location: path.join(a.sourceDir, "Dockerfile") },
      platforms: ["linux/amd64"],
      push: true,
      buildOnPreview: false,
      tags: [pulumi.interpolate`${repo.repositoryUrl}:${a.contextHash}`],
      registries: [{ address: repo.repositoryUrl, username: auth.userName, password: pulumi.secret(auth.password) }],
    },
    opts,
  );
  return image.ref;
}
