/**
 * AWS resource knowledge the policies share: which types take tags, how the provider's
 * defaultTags arrive, IAM documents.
 *
 * TAGGABLE and NOT_TAGGABLE are checked against the @pulumi/aws SDK by tests/policies.test.ts
 * (a type is taggable when its Args interface has `tags`), and every AWS type the committed
 * stacks register must be in one of them.
 */
import { isRecord, jsonValue, record, stringMap, type Props } from "./props";

/** AWS resource types whose Args take `tags` (and so get the provider's defaultTags). */
export const TAGGABLE: ReadonlySet<string> = new Set([
  "aws:acm/certificate:Certificate",
  "aws:acmpca/certificateAuthority:CertificateAuthority",
  "aws:alb/listener:Listener",
  "aws:alb/listenerRule:ListenerRule",
  "aws:alb/loadBalancer:LoadBalancer",
  "aws:alb/targetGroup:TargetGroup",
  "aws:apigateway/restApi:RestApi",
  "aws:apigatewayv2/api:Api",
  "aws:autoscaling/group:Group",
  "aws:backup/plan:Plan",
  "aws:backup/vault:Vault",
  "aws:budgets/budget:Budget",
  "aws:budgets/budgetAction:BudgetAction",
  "aws:costexplorer/anomalyMonitor:AnomalyMonitor",
  "aws:costexplorer/anomalySubscription:AnomalySubscription",
  "aws:cloudfront/distribution:Distribution",
  "aws:cloudtrail/trail:Trail",
  "aws:cloudwatch/eventBus:EventBus",
  "aws:cloudwatch/eventRule:EventRule",
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:cloudwatch/metricAlarm:MetricAlarm",
  "aws:cognito/userPool:UserPool",
  "aws:dynamodb/table:Table",
  "aws:ebs/snapshot:Snapshot",
  "aws:ebs/volume:Volume",
  "aws:ec2/capacityReservation:CapacityReservation",
  "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl",
  "aws:ec2/defaultRouteTable:DefaultRouteTable",
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
  "aws:ec2/defaultVpc:DefaultVpc",
  "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
  "aws:ec2/eip:Eip",
  "aws:ec2/fleet:Fleet",
  "aws:ec2/flowLog:FlowLog",
  "aws:ec2/instance:Instance",
  "aws:ec2/internetGateway:InternetGateway",
  "aws:ec2/keyPair:KeyPair",
  "aws:ec2/launchTemplate:LaunchTemplate",
  "aws:ec2/natGateway:NatGateway",
  "aws:ec2/networkAcl:NetworkAcl",
  "aws:ec2/networkInterface:NetworkInterface",
  "aws:ec2/placementGroup:PlacementGroup",
  "aws:ec2/routeTable:RouteTable",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:ec2/spotInstanceRequest:SpotInstanceRequest",
  "aws:ec2/subnet:Subnet",
  "aws:ec2/vpc:Vpc",
  "aws:ec2/vpcEndpoint:VpcEndpoint",
  "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
  "aws:ec2transitgateway/transitGateway:TransitGateway",
  "aws:ec2transitgateway/vpcAttachment:VpcAttachment",
  "aws:ecr/repository:Repository",
  "aws:ecs/cluster:Cluster",
  "aws:ecs/service:Service",
  "aws:efs/accessPoint:AccessPoint",
  "aws:efs/fileSystem:FileSystem",
  "aws:eks/accessEntry:AccessEntry",
  "aws:eks/addon:Addon",
  "aws:eks/cluster:Cluster",
  "aws:eks/fargateProfile:FargateProfile",
  "aws:eks/identityProviderConfig:IdentityProviderConfig",
  "aws:eks/nodeGroup:NodeGroup",
  "aws:eks/podIdentityAssociation:PodIdentityAssociation",
  "aws:elasticache/cluster:Cluster",
  "aws:elasticache/parameterGroup:ParameterGroup",
  "aws:elasticache/replicationGroup:ReplicationGroup",
  "aws:elasticache/serverlessCache:ServerlessCache",
  "aws:elasticache/subnetGroup:SubnetGroup",
  "aws:elasticache/user:User",
  "aws:elasticache/userGroup:UserGroup",
  "aws:fsx/lustreFileSystem:LustreFileSystem",
  "aws:iam/instanceProfile:InstanceProfile",
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
  "aws:iam/policy:Policy",
  "aws:iam/role:Role",
  "aws:iam/serviceLinkedRole:ServiceLinkedRole",
  "aws:iam/user:User",
  "aws:kinesis/stream:Stream",
  "aws:kms/key:Key",
  "aws:lambda/function:Function",
  "aws:lb/listener:Listener",
  "aws:lb/listenerRule:ListenerRule",
  "aws:lb/loadBalancer:LoadBalancer",
  "aws:lb/targetGroup:TargetGroup",
  "aws:memorydb/cluster:Cluster",
  "aws:msk/cluster:Cluster",
  "aws:opensearch/domain:Domain",
  "aws:rds/cluster:Cluster",
  "aws:rds/clusterInstance:ClusterInstance",
  "aws:rds/clusterParameterGroup:ClusterParameterGroup",
  "aws:rds/instance:Instance",
  "aws:rds/optionGroup:OptionGroup",
  "aws:rds/parameterGroup:ParameterGroup",
  "aws:rds/proxy:Proxy",
  "aws:rds/subnetGroup:SubnetGroup",
  "aws:route53/healthCheck:HealthCheck",
  "aws:route53/resolverEndpoint:ResolverEndpoint",
  "aws:route53/zone:Zone",
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketObject:BucketObject",
  "aws:s3/bucketObjectv2:BucketObjectv2",
  "aws:s3/bucketV2:BucketV2",
  "aws:sagemaker/endpoint:Endpoint",
  "aws:secretsmanager/secret:Secret",
  "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace",
  "aws:sfn/stateMachine:StateMachine",
  "aws:sns/topic:Topic",
  "aws:sqs/queue:Queue",
  "aws:ssm/parameter:Parameter",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  "aws:wafv2/ipSet:IpSet",
  "aws:wafv2/ruleGroup:RuleGroup",
  "aws:wafv2/webAcl:WebAcl",
]);

/** AWS resource types that take no tags: never flagged. */
export const NOT_TAGGABLE: ReadonlySet<string> = new Set([
  "aws:acm/certificateValidation:CertificateValidation",
  "aws:autoscaling/attachment:Attachment",
  "aws:cloudwatch/dashboard:Dashboard",
  "aws:cloudwatch/eventTarget:EventTarget",
  "aws:cloudwatch/logMetricFilter:LogMetricFilter",
  "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
  "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter",
  "aws:ec2/eipAssociation:EipAssociation",
  "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation",
  "aws:ec2/networkInterfaceAttachment:NetworkInterfaceAttachment",
  "aws:ec2/route:Route",
  "aws:ec2/routeTableAssociation:RouteTableAssociation",
  "aws:ec2/securityGroupRule:SecurityGroupRule",
  "aws:ec2/tag:Tag",
  "aws:ec2/volumeAttachment:VolumeAttachment",
  "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation",
  "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation",
  "aws:ecr/lifecyclePolicy:LifecyclePolicy",
  "aws:ecr/repositoryPolicy:RepositoryPolicy",
  "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
  "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup",
  "aws:iam/group:Group",
  "aws:iam/groupPolicy:GroupPolicy",
  "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
  "aws:iam/policyAttachment:PolicyAttachment",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  "aws:iam/userPolicy:UserPolicy",
  "aws:iam/userPolicyAttachment:UserPolicyAttachment",
  "aws:kms/alias:Alias",
  "aws:kms/grant:Grant",
  "aws:lambda/permission:Permission",
  "aws:lb/listenerCertificate:ListenerCertificate",
  "aws:lb/targetGroupAttachment:TargetGroupAttachment",
  "aws:rds/roleAssociation:RoleAssociation",
  "aws:route53/record:Record",
  "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
  "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration",
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
  "aws:s3/bucketLogging:BucketLogging",
  "aws:s3/bucketNotification:BucketNotification",
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  "aws:s3/bucketPolicy:BucketPolicy",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
  "aws:s3/bucketVersioning:BucketVersioning",
  "aws:s3/bucketVersioningV2:BucketVersioningV2",
  "aws:secretsmanager/secretPolicy:SecretPolicy",
  "aws:secretsmanager/secretVersion:SecretVersion",
  "aws:sns/topicPolicy:TopicPolicy",
  "aws:sns/topicSubscription:TopicSubscription",
  "aws:sqs/queuePolicy:QueuePolicy",
  "aws:wafv2/webAclAssociation:WebAclAssociation",
  "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
]);

/**
 * Whether a resource of this type carries tags: the lists above, and for an AWS type in neither
 * (a new one) the presence of a `tags` property.
 */
export function isTaggable(type: string, props: Props): boolean {
  if (!type.startsWith("aws:")) return false;
  if (TAGGABLE.has(type)) return true;
  if (NOT_TAGGABLE.has(type)) return false;
  return "tags" in props;
}

/**
 * The AWS provider's defaultTags. The Node.js SDK serializes nested provider inputs as JSON
 * strings (`"{\"tags\":{...}}"`), so both shapes are read.
 */
export function providerDefaultTags(providerProps: Props | undefined): Record<string, string> {
  if (!providerProps) return {};
  return stringMap(record(jsonValue(providerProps.defaultTags)).tags);
}

export interface IamStatement {
  readonly Effect?: unknown;
  readonly Action?: unknown;
  readonly NotAction?: unknown;
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
}

/** The statements of an IAM policy document given as a JSON string or an object. */
export function iamStatements(doc: unknown): IamStatement[] {
  const d = jsonValue(doc);
  if (!isRecord(d)) return [];
  const s = d.Statement;
  if (Array.isArray(s)) return (s as unknown[]).filter(isRecord);
  return isRecord(s) ? [s] : [];
}
