// The composition root (Garage's `server` command): wires storage, the replica, the cluster
// view, the coordinator and the gRPC services of one node, and shuts them down in order. It
// picks the clock (the system clock unless given) and the gRPC ports of the background
// protocols (handoff, exchange, reap, ping), and hands them to everything that needs them.

import { metadataAccess } from "../node/security/metadata-access.js";
import * as grpc from "@grpc/grpc-js";
import { HealthImplementation, protoPath as healthProtoPath } from "grpc-health-check";
import * as protoLoader from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { PROTO_LOADER_OPTIONS, loadProto, warmCodecs } from "../proto/load-proto.js";
import type { NodeId } from "../node/core/node-id.js";
import { DEFAULT_LIMITS, writeLifeMs, type Limits } from "../node/core/limits.js";
import type { Storage } from "../node/storage/storage.js";
import { Replica } from "../node/replica.js";
import { ActorLease } from "../node/actor-lease.js";
import { ClusterView, type Member } from "../node/cluster-view.js";
import { MetadataStore } from "../node/membership/metadata-store.js";
import { initialMetadata } from "../node/core/layout.js";
import { membershipHandlers } from "../node/membership/membership-server.js";
import { accessHandlers } from "../node/membership/access-server.js";
import { fetchMetadata, logMetadataOpened, stageOwnJoin } from "./join-cluster.js";
import { TRANSFER_DEFAULTS } from "../node/membership/transfer-source.js";
import { startTransfers } from "./start-transfers.js";
import { closeTransferCalls, transferHandlers } from "../node/membership/transfer-server.js";
import { DropLoop } from "../node/membership/drop-loop.js";
import { channelOptions } from "../node/peer-clients.js";
import { INSECURE_NODE, type NodeSecurity } from "../node/security/node-security.js";
import { createBoundedServer } from "../node/wire/bounded-server.js";
import { withReplicaStreamCodec } from "../node/wire/replica-stream-codec.js";
import { ConnectionGate } from "../node/wire/connection-gate.js";
import { TokenVerifier } from "../node/security/tokens.js";
import { replicaHandlers } from "../node/replica-server.js";
import { adminHandlers } from "../node/admin-server.js";
import type { Logger } from "../node/logger.js";
import { Coordinator } from "../coordinator/coordinator.js";
import { GrpcReplicaTransport } from "../coordinator/replica-transport.js";
import { kvHandlers } from "../coordinator/kv-server.js";
import type { ContextKeys } from "../node/core/key-context.js";
import { HintStore } from "../node/hints/hint-store.js";
import type { FailureDetectorOptions } from "../node/membership/failure-detector-options.js";
import { HintDelivery } from "../node/hints/hint-delivery.js";
import { GrpcHandoffPort } from "../node/hints/handoff-client.js";
import { grpcExchangeOpener } from "../node/anti-entropy/exchange-client.js";
import { GrpcReapPort } from "../node/anti-entropy/reap-client.js";
import { SYSTEM_CLOCK, type Clock } from "../node/clock.js";
import { handoffHandlers } from "../node/hints/handoff-server.js";
import { DEFAULT_BUCKET, type BucketDefaults } from "../coordinator/core/quorum-options.js";
import { primariesFollowing } from "../coordinator/preference-lists.js";
import { AntiEntropy } from "../node/anti-entropy/anti-entropy.js";
import { treeSnapshotFile } from "../node/anti-entropy/tree-snapshot-file.js";
import { KvMetrics } from "../node/metrics/kv-metrics.js";
import { createNodeMetrics, type NodeMetrics } from "../node/metrics/node-metrics.js";
import { startMetricsServer, type MetricsServer } from "../node/metrics/metrics-server.js";
import { ActivityLog } from "../node/metrics/activity-log.js";
import { partitionEstimate } from "../node/membership/partition-estimate.js";
import { logStorageOpened } from "../node/metrics/startup-log.js";

/** Everything one node needs to start. */
export interface NodeConfig {
  readonly self: NodeId;
  /** host:port to listen on; port 0 picks a free port (single-node use). */
  readonly listen: string;
  /**
   * host:port peers and clients reach this node at, when it differs from `listen` (a wildcard
   * or NATed listen address); default: the address bound.
   */
  readonly advertise?: string;
  /**
   * The first layout's members (--peers), used only when the data directory holds no cluster
   * metadata yet: after the first start the metadata file is the truth.
   */
  readonly members: readonly Member[];
  readonly partitionCount: number;
  /**
   * host:port of a member of a running cluster: a new node with no metadata fetches the
   * cluster's from it, and once it listens asks it to stage its join.
   */
  readonly join?: string;
  /** After a membership change retires, how long before lost partitions are dropped. */
  readonly dropGraceMs?: number;
  /** How long a replica stream waits to batch more calls (0: to the end of the turn). */
  readonly replicaLingerMs?: number;
  readonly storage: Storage;
  readonly dataDir: string;
  readonly logger: Logger;
  readonly limits?: Limits;
  readonly bucket?: BucketDefaults;
  /** Read repair after gets (default on). */
  readonly readRepair?: boolean;
  /** Anti-entropy compares every pair of replicas once per interval (default 10 min). */
  readonly aaeIntervalMs?: number;
  /**
   * Active anti-entropy (default on): tree maintenance on every write, exchanges and tombstone
   * reaping. Off, trees are not kept and tombstones are never reaped (for measuring its cost).
   */
  readonly antiEntropy?: boolean;
  /** A tombstone is reaped once every primary holds it and it is this old (default 3 s). */
  readonly tombstoneGraceMs?: number;
  /** An unopened engine for the hint store (hinted handoff). */
  readonly hintStorage: Storage;
  /** Hinted handoff and sloppy quorum (default on). */
  readonly hintedHandoff?: boolean;
  /** Failure detector settings (heartbeat interval, phi threshold, …); defaults otherwise. */
  readonly failureDetector?: Partial<FailureDetectorOptions>;
  /** Handoff throttle in object bytes per second per target. */
  readonly handoffBytesPerSecond?: number;
  /**
   * Ownership transfer: bytes per second this node sends over all its streams, and receives
   * over all of them (0: unthrottled).
   */
  readonly transferBytesPerSecond?: number;
  /** Ownership transfer: partitions streamed at once, sending and receiving each (default 2). */
  readonly transfersMax?: number;
  /** host:port of the Prometheus endpoint (GET /metrics); port 0 picks one; off when absent. */
  readonly metricsListen?: string;
  /**
   * The cluster keys client contexts are sealed with, read on every request (so a reload of the
   * key file applies at once). Absent: unsealed contexts, as `dkv serve --insecure` runs.
   */
  readonly contextKeys?: () => ContextKeys | undefined;
  /** Every timer, deadline and timestamp of the node (default: the system clock). */
  readonly clock?: Clock;
  /**
   * Serve Admin.SetDroppedPeers and Admin.SetLinkFaults (default off: anyone reaching the port
   * could partition the cluster with them; only test clusters turn them on).
   */
  readonly faultInjection?: boolean;
  /** TLS and the check of every call, or plaintext (default: INSECURE_NODE). */
  readonly security?: NodeSecurity;
}

/** A started node. */
export interface RunningNode {
  readonly address: string;
  readonly port: number;
  readonly coordinator: Coordinator;
  readonly replica: Replica;
  /** host:port of the metrics endpoint as bound; undefined when metrics are off. */
  readonly metricsAddress: string | undefined;
  /** Stops accepting requests, drains in-flight ones (up to graceMs) and closes storage. */
  close(graceMs?: number): Promise<void>;
}

/** Starts a node and resolves once it is listening. */
export async function startNode(config: NodeConfig): Promise<RunningNode> {
  const limits = config.limits ?? DEFAULT_LIMITS;
  const bucket = config.bucket ?? DEFAULT_BUCKET;
  const contextKeys = config.contextKeys ?? ((): undefined => undefined);
  const clock = config.clock ?? SYSTEM_CLOCK;
  const security = config.security ?? INSECURE_NODE;
  const { definition, grpcObject } = loadProto();
  warmCodecs(definition);
  await config.storage.open();
  logStorageOpened(config.logger, "data", config.storage.stats());
  const hints = new HintStore(config.hintStorage, {
    bytesMaxPerTarget: limits.hintBytesMax,
  });
  await hints.open();
  logStorageOpened(config.logger, "hints", config.hintStorage.stats());
  // The last incarnation's actor id after a clean stop, else a new one: a node that may have
  // lost data must never hand out a dot it handed out before (Riak kv679; node/actor-lease.ts).
  const lease = await ActorLease.acquire({
    self: config.self,
    dataDir: config.dataDir,
    storage: config.storage,
    logger: config.logger,
  });
  const actor = lease.actor;
  const replica = new Replica(config.storage, actor, lease.newActor, {
    removed: lease.removedCopies,
    clock,
  });
  replica.onCorruption((bucketName, key, reason) =>
    config.logger.error(
      { bucket: bucketName, key: Buffer.from(key).toString("base64"), reason },
      "stored object unreadable",
    ),
  );
  const { store: metadata, created } = await MetadataStore.open({
    dataDir: config.dataDir,
    initial: () =>
      config.join === undefined
        ? initialMetadata({
            members: config.members,
            partitionCount: config.partitionCount,
            targetN: bucket.n,
          })
        : fetchMetadata(config.join, limits.grpcMessageBytesMax, security.channels),
  });
  logMetadataOpened(config, metadata, created);
  const view = new ClusterView({
    self: config.self,
    metadata,
    messageBytesMax: limits.grpcMessageBytesMax,
    failureDetector: config.failureDetector ?? {},
    logger: config.logger,
    clock,
    security: security.channels,
  });
  view.start();
  const antiEntropy: AntiEntropy = new AntiEntropy({
    view,
    replica,
    // During a membership change a partition's old and new primaries compare trees: that is
    // how a node gaining a partition confirms it holds all of it (the stream brings the bulk).
    primariesOf: primariesFollowing(view, bucket.n),
    logger: config.logger,
    exchanges: grpcExchangeOpener(view, clock),
    reaps: new GrpcReapPort(view),
    clock,
    options: config.aaeIntervalMs === undefined ? {} : { intervalMs: config.aaeIntervalMs },
    hints,
    reap: {
      ...(config.tombstoneGraceMs === undefined ? {} : { graceMs: config.tombstoneGraceMs }),
      heldMsMin: writeLifeMs(limits),
    },
    leftToTransfer: (partition: number, peer: NodeId): boolean =>
      transfers.leftToTransfer(partition, peer),
    snapshots: treeSnapshotFile(config.dataDir),
  });
  const antiEntropyOn = config.antiEntropy ?? true;
  if (antiEntropyOn) {
    replica.onWrite(antiEntropy.writeListener);
    replica.onRemove(antiEntropy.removeListener);
  }
  // Partitions this node loses in a membership change are dropped after the grace period.
  const drops = new DropLoop({
    view,
    replica,
    hints,
    clock,
    logger: config.logger,
    ...(config.dropGraceMs === undefined ? {} : { graceMs: config.dropGraceMs }),
  });
  // Partitions this node gains in a membership change are streamed from an old primary, then
  // confirmed by anti-entropy exchanges; the source serves the partitions it holds.
  const {
    puller,
    source: transferSource,
    ...transferParts
  } = await startTransfers({
    dataDir: config.dataDir,
    view,
    metadata,
    replica,
    antiEntropy,
    clock,
    logger: config.logger,
    bytesPerSecond: config.transferBytesPerSecond,
    streamsMax: config.transfersMax,
    hints,
  });
  const transfers = transferParts.loop;
  const transferCalls = transferParts.calls;
  const transport = new GrpcReplicaTransport(view, replica, clock, config.replicaLingerMs);
  const coordinator = new Coordinator({
    view,
    replica,
    transport,
    limits,
    logger: config.logger,
    clock,
    readRepair: config.readRepair ?? true,
    hints,
    hintedHandoff: config.hintedHandoff ?? true,
  });
  const delivery = new HintDelivery({
    view,
    replica,
    hints,
    port: new GrpcHandoffPort(view),
    clock,
    logger: config.logger,
    isPrimaryOf: (bucketName, key) => coordinator.isPrimaryOf(bucketName, key, bucket.n),
    membership: {
      self: config.self,
      isMember: (node) => view.isMember(node),
      primariesOf: (bucketName, key) =>
        coordinator.preferenceList(bucketName, key, bucket.n).primaries,
    },
    delivery:
      config.handoffBytesPerSecond === undefined
        ? {}
        : { bytesPerSecond: config.handoffBytesPerSecond },
  });
  if (config.hintedHandoff ?? true) delivery.start();
  const handoffStats = { received: 0 };
  const gate = new ConnectionGate(limits, clock, config.logger, {
    standing: security.mode === "tls",
  });
  // The members' hosts get in from the stored layout on: a restart lets its cluster in.
  gate.followMembers(view);
  const tokens = new TokenVerifier({
    failedChecksPerSecondMax: limits.addressTokenFailuresMax,
    monotonicMs: () => clock.monotonicMs(),
  });
  const nodeMetrics: NodeMetrics | undefined =
    config.metricsListen === undefined
      ? undefined
      : createNodeMetrics({
          self: config.self,
          members: () => view.members.map((member) => member.node),
          peerReport: (node) => view.peerReport(node),
          hints,
          delivery,
          antiEntropy: antiEntropy.stats,
          readRepairs: coordinator.stats,
          security: { ...security, connections: gate, tokenChecks: tokens.stats },
          storages: [
            { store: "data", storage: config.storage },
            { store: "hints", storage: config.hintStorage },
          ],
          membership: {
            layoutVersion: () => view.layout.version,
            inTransition: () => view.previousRing !== undefined,
            incoming: () => transfers.incoming,
            droppedKeys: () => drops.stats.removed,
            streams: () => ({
              received: {
                keys: puller.stats.keysReceived,
                bytes: puller.stats.bytesReceived,
                active: puller.active,
              },
              sent: {
                keys: transferSource.stats.keysSent,
                bytes: transferSource.stats.bytesSent,
                active: transferSource.stats.active,
              },
            }),
          },
        });
  const kvMetrics = new KvMetrics({
    logger: config.logger,
    registry: nodeMetrics?.registry,
    clock,
  });
  const activityLog = new ActivityLog({
    logger: config.logger,
    clock,
    readRepairs: coordinator.stats,
    flush: () => kvMetrics.flushLogs(),
  });
  activityLog.start();
  let metricsServer: MetricsServer | undefined;

  const guard = security.guard({
    isMember: (node) => view.isMember(node),
    access: metadataAccess(() => metadata.current.access, tokens),
    standing: gate,
  });
  const server = createBoundedServer(limits, channelOptions(limits.grpcMessageBytesMax), clock, {
    ...(guard === undefined ? {} : { guard }),
    gate,
  });
  const v1 = grpcObject.dkv.v1;
  server.addService(
    v1.KV.service,
    kvHandlers({
      coordinator,
      view,
      limits,
      bucket,
      logger: config.logger,
      observer: kvMetrics,
      contextKeys,
    }),
  );
  server.addService(
    withReplicaStreamCodec(v1.Replica.service),
    replicaHandlers(replica, view, config.logger, hints, clock, limits),
  );
  const facts = {
    replica,
    storage: config.storage,
    dataDir: config.dataDir,
    defaultN: bucket.n,
    startedAtMs: clock.nowMs(),
    hints,
    recentLatency: () => kvMetrics.recent(),
    contextKeys,
    metricsAddress: () => metricsServer?.address,
    incomingTransfers: () => transfers.incoming,
    handoverPending: () => drops.pending,
    faultInjection: config.faultInjection ?? false,
    security: security.mode,
  };
  server.addService(
    v1.Handoff.service,
    handoffHandlers(replica, view, config.logger, handoffStats),
  );
  server.addService(v1.Admin.service, adminHandlers(view, facts, config.logger));
  server.addService(
    v1.Membership.service,
    membershipHandlers({
      view,
      metadata,
      logger: config.logger,
      clock,
      estimate: () => partitionEstimate(config.storage, view),
      bytesPerSecondPerSender: config.transferBytesPerSecond ?? TRANSFER_DEFAULTS.bytesPerSecond,
    }),
  );
  server.addService(v1.Access.service, accessHandlers({ metadata, logger: config.logger }));
  server.addService(
    v1.Transfer.service,
    transferHandlers({
      source: transferSource,
      view,
      logger: config.logger,
      calls: transferCalls,
      clock,
      unreadMsMax: limits.transferUnreadMsMax,
    }),
  );
  antiEntropy.addToServer(server, view);
  const health = new HealthImplementation({ "": "SERVING", "dkv.v1.KV": "SERVING" });
  health.addToServer(server);
  // Reflection lists the health service too, so generic tools see everything a node serves.
  const healthProto = protoLoader.loadSync(healthProtoPath, PROTO_LOADER_OPTIONS);
  new ReflectionService({ ...definition, ...healthProto }).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(config.listen, security.serverCredentials, (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  const host = config.listen.slice(0, config.listen.lastIndexOf(":"));
  const address = config.advertise ?? `${host}:${port}`;
  if (config.join !== undefined && !view.isMember(config.self)) {
    await stageOwnJoin({
      seed: config.join,
      self: config.self,
      address,
      messageBytesMax: limits.grpcMessageBytesMax,
      logger: config.logger,
      security: security.channels,
    });
  }
  if (antiEntropyOn) {
    antiEntropy.start();
    transfers.start();
  } else {
    config.logger.warn(
      "anti-entropy is off: this node will not receive partitions in a membership change",
    );
  }

  let closing: Promise<void> | undefined;
  async function close(graceMs = 5000): Promise<void> {
    closing ??= (async () => {
      activityLog.close();
      await metricsServer?.close();
      nodeMetrics?.close();
      health.setStatus("", "NOT_SERVING");
      health.setStatus("dkv.v1.KV", "NOT_SERVING");
      await transfers.close();
      closeTransferCalls(transferCalls);
      await drops.close();
      await antiEntropy.close();
      await new Promise<void>((resolve) => {
        const cancel = clock.setTimer(graceMs, () => {
          server.forceShutdown();
          resolve();
        });
        server.tryShutdown(() => {
          cancel();
          resolve();
        });
      });
      delivery.close();
      transport.close();
      view.close();
      await hints.close();
      await config.storage.close();
      await antiEntropy.saveSnapshot();
      // Everything this incarnation wrote is durable now: the next may keep its actor.
      await lease.release(replica);
    })();
    return closing;
  }
  if (nodeMetrics !== undefined && config.metricsListen !== undefined) {
    try {
      const listen = config.metricsListen;
      metricsServer = await startMetricsServer({
        listen,
        registry: nodeMetrics.registry,
        logger: config.logger,
      });
    } catch (error) {
      await close(0);
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`metrics endpoint cannot listen on ${config.metricsListen}: ${reason}`);
    }
    config.logger.info({ address: metricsServer.address }, "metrics listening");
  }
  const metricsAddress = metricsServer?.address;
  return { address, port, coordinator, replica, metricsAddress, close };
}
