/**
 * Why a release's rollout is not becoming ready, told while Helm still waits. Helm's own error after a failed wait is
 * only `context deadline exceeded`, after the whole timeout; the reasons are in the namespace's Warning events: a pod
 * that cannot be scheduled (`0/1 nodes are available: 1 Insufficient cpu`), an image that cannot be pulled, a
 * container that crashes or fails its probes, a pod that Pod Security admission refused. During `pulumi up` each such
 * event of the release's objects is reported once, as a warning on the release, as soon as it happens.
 *
 * Only reads (events), through the same kubeconfig context as the stack's provider; never in a preview.
 */

/** A Kubernetes Event, as far as this module reads it. */
export interface ClusterEvent {
    readonly type?: string;
    readonly reason?: string;
    readonly message?: string;
    readonly involvedObject?: { readonly kind?: string; readonly name?: string; readonly namespace?: string };
    readonly lastTimestamp?: Date | string;
    readonly eventTime?: Date | string;
    readonly metadata?: { readonly creationTimestamp?: Date | string };
}

/** When the event last happened. */
function eventTime(event: ClusterEvent): number {
    const when = event.lastTimestamp ?? event.eventTime ?? event.metadata?.creationTimestamp;
    return when === undefined ? 0 : new Date(when).getTime();
}

/**
 * The Warning events about a release's objects (named after the release, as the chart names them) since `since`, as
 * lines for the deploy's log: `Pod hello/hello-7d9c-x2x: FailedScheduling: 0/1 nodes are available: ...`.
 */
export function rolloutProblems(events: readonly ClusterEvent[], opts: { readonly release: string; readonly since: Date }): string[] {
    const ofRelease = (name = "") => name === opts.release || name.startsWith(`${opts.release}-`);
    const lines = events
        .filter((e) => e.type === "Warning" && ofRelease(e.involvedObject?.name) && eventTime(e) >= opts.since.getTime())
        .sort((a, b) => eventTime(a) - eventTime(b))
        .map((e) => {
            const obj = e.involvedObject ?? {};
            return `${obj.kind ?? "object"} ${obj.namespace ? `${obj.namespace}/` : ""}${obj.name}: ${e.reason ?? "Warning"}: ` +
                (e.message ?? "").trim();
        });
    return [...new Set(lines)];
}

export interface RolloutWatchOptions {
    /** The kubeconfig context (the stack's `kubeContext`); the kubeconfig is the ambient one, as the provider's. */
    readonly context: string;
    readonly namespace: string;
    readonly release: string;
    /** Receives each problem once. */
    readonly report: (line: string) => void;
    /** Settles when the release is known to be ready (the watch then stops). */
    readonly until: Promise<unknown>;
    /** How long Helm waits; nothing is reported after it. */
    readonly timeoutMs: number;
    /** @default 2000 */
    readonly pollMs?: number;
    /** Lists the namespace's events. @default through @kubernetes/client-node */
    readonly listEvents?: (namespace: string) => Promise<readonly ClusterEvent[]>;
}

/** Network errors that mean the API server is away for now (not a missing kubeconfig or permission): their code. */
const UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]);

export function unreachable(err: unknown): string | undefined {
    const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
    const code = [e?.code, e?.cause?.code].find((c): c is string => typeof c === "string" && UNREACHABLE.has(c));
    return code;
}

/** Lists a namespace's Warning events through the kubeconfig's `context`. */
async function clientNodeEvents(context: string): Promise<(namespace: string) => Promise<readonly ClusterEvent[]>> {
    // ESM-only package: loaded when a watch starts, never by tests that do not deploy.
    const k8s = await import("@kubernetes/client-node");
    const config = new k8s.KubeConfig();
    config.loadFromDefault();
    config.setCurrentContext(context);
    const api = config.makeApiClient(k8s.CoreV1Api);
    return async (namespace) => (await api.listNamespacedEvent({ namespace, fieldSelector: "type=Warning" })).items;
}

/**
 * Reports the release's problems until `until` settles or `timeoutMs` passes. Never throws and never keeps the
 * process alive: a cluster it cannot read only ends the watch.
 */
export function watchRollout(opts: RolloutWatchOptions): { readonly done: Promise<void> } {
    const since = new Date(Date.now() - 1000); // events are stamped in whole seconds
    const deadline = Date.now() + opts.timeoutMs;
    let finished = false;
    opts.until.then(() => (finished = true), () => (finished = true));
    const reported = new Set<string>();
    const done = (async () => {
        try {
            const list = opts.listEvents ?? await clientNodeEvents(opts.context);
            let unreachableSince: number | undefined;
            while (!finished && Date.now() < deadline) {
                let events: readonly ClusterEvent[];
                try {
                    events = await list(opts.namespace);
                } catch (err) {
                    const code = unreachable(err);
                    if (code === undefined) throw err;
                    // The cluster's API is away (restarting, a network cut): said once, in words, while Helm retries.
                    if (unreachableSince === undefined && !finished) {
                        unreachableSince = Date.now();
                        opts.report(`the cluster's API could not be reached (${code}) while Helm waits for the release: the deploy ` +
                            "goes on if it comes back in time, else it fails; `npm run recover` then brings the release back");
                    }
                    await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 2000).unref());
                    continue;
                }
                if (unreachableSince !== undefined && !finished) {
                    opts.report(`the cluster's API answers again, after ${Math.round((Date.now() - unreachableSince) / 1000)} s`);
                    unreachableSince = undefined;
                }
                for (const line of rolloutProblems(events, { release: opts.release, since })) {
                    if (finished || reported.has(line)) continue;
                    reported.add(line);
                    opts.report(line);
                }
                await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 2000).unref());
            }
        } catch {
            // No kubeconfig, no such context, no permission: the release's own result still tells success or failure.
        }
    })();
    return { done };
}
