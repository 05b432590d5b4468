/** Area `vectorDb`: Milvus. */
import { z } from "zod";
import { int } from "./primitives";

export const vectorDbSchema = z
  .strictObject({
    mode: z.enum(["standalone", "cluster"]),
    etcdReplicas: z.union([z.literal(1), z.literal(3)], { error: "expected 1 or 3 (etcd needs an odd quorum)" }),
    /** Milvus message queue / WAL. `woodpecker` keeps the WAL on S3 with no extra brokers. */
    messageQueue: z.enum(["woodpecker", "pulsarv3", "kafka"]),
    queryNodeReplicas: int(1, 50).default(1),
    dataNodeReplicas: int(1, 50).default(1),
    proxyReplicas: int(1, 20).default(1),
    etcdStorageGi: int(5, 1000).default(10),
    /**
     * mixCoordinator replicas; more than 1 turns on active-standby, which the chart requires for
     * replicas > 1 (milvus chart values.yaml: "You can set the number of replicas greater than 1,
     * only if enable active standby").
     */
    coordinatorReplicas: int(1, 3).default(1),
    /** Streaming nodes (cluster mode; standalone has none of its own). */
    streamingNodeReplicas: int(1, 20).default(1),
  })
  .superRefine((v, ctx) => {
    if (v.mode === "standalone" && (v.queryNodeReplicas > 1 || v.dataNodeReplicas > 1 || v.proxyReplicas > 1 || v.coordinatorReplicas > 1 || v.streamingNodeReplicas > 1))
      ctx.addIssue({ code: "custom", path: ["mode"], message: "standalone runs one pod; set mode: cluster to scale query, data, proxy, coordinator or streaming nodes" });
  });
