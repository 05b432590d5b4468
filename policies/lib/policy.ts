/**
 * Small helpers over @pulumi/policy's types (type-only imports: loading the policies must not
 * load the gRPC server, so that tests and the offline plan can run them in-process).
 */
import type { PolicyResource, ReportViolation, ResourceValidation, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import type { Props } from "./props";

export type { Props };

/** What a resource validation sees, typed. */
export interface ResourceView {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly props: Props;
  readonly args: ResourceValidationArgs;
}

/** A resource validation that only looks at the given types (or those `accept` admits). */
export function forTypes(accept: readonly string[] | ((type: string) => boolean), check: (r: ResourceView, report: ReportViolation) => void | Promise<void>): ResourceValidation {
  const admits = typeof accept === "function" ? accept : (t: string) => accept.includes(t);
  return (args, report) => {
    if (!admits(args.type)) return;
    return check({ type: args.type, name: args.name, urn: args.urn, props: args.props as Props, args }, report);
  };
}

/** A policy's config, typed by the caller (defaults from its configSchema are applied by the engine). */
export function configOf<T extends object>(args: ResourceValidationArgs | StackValidationArgs): T {
  return args.getConfig<T>();
}

export function propsOf(r: PolicyResource): Props {
  return r.props as Props;
}
