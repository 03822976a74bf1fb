/**
 * Can the stack's cluster be reached through its kubeconfig context, before anything is deployed? An API server that
 * is away otherwise shows as the provider's and Helm's retries, then an error deep in a release's update. `pulumi up`
 * asks first (never a preview), as it asks the registry (registryAccess.ts), and fails naming the context, the server
 * and what went wrong, before any resource changes.
 *
 * Reads the ambient kubeconfig ($KUBECONFIG, else ~/.kube/config), as the stack's provider does.
 */
import { unreachable } from "./rolloutDiagnostics";

/** Throws an error naming the context and its server unless the cluster's API answers `GET /version`. */
export async function checkClusterAccess(context: string, opts: { readonly timeoutMs?: number } = {}): Promise<void> {
    // ESM-only package: loaded when an update starts, never by previews or tests that do not deploy.
    const k8s = await import("@kubernetes/client-node");
    const config = new k8s.KubeConfig();
    config.loadFromDefault();
    const known = config.getContexts().map((c) => c.name);
    if (!known.includes(context)) {
        throw new Error(`the kubeconfig has no context "${context}" (hello-service:kubeContext): it has ${known.length ? known.join(", ") : "none"}; ` +
            "nothing was deployed");
    }
    config.setCurrentContext(context);
    const server = config.getCurrentCluster()?.server ?? "(no server)";
    const timeoutMs = opts.timeoutMs ?? 15_000;
    let timer: NodeJS.Timeout | undefined;
    try {
        await Promise.race([
            config.makeApiClient(k8s.VersionApi).getCode(),
            new Promise((_, reject) => (timer = setTimeout(() => reject(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })), timeoutMs))),
        ]);
    } catch (err) {
        const code = unreachable(err);
        const status = (err as { code?: unknown }).code;
        const why = code ? `cannot be reached (${code})`
            : status === 401 || status === 403 ? `refused the credentials of context "${context}" (HTTP ${status})`
                : `did not answer as a Kubernetes API: ${(err as Error).message.split("\n")[0]}`;
        throw new Error(`the cluster of context "${context}" (${server}) ${why}; nothing was deployed`);
    } finally {
        clearTimeout(timer);
    }
}
