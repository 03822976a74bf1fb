/**
 * The real node's load balancer, as k3s's servicelb and kind's cloud-provider-kind provide one: a Service of type
 * LoadBalancer gets the node's address as its external address, and kube-proxy then routes `<node address>:<port>` to
 * its pods (80 to the service's 8080, as the original tutorial's LoadBalancer does). Without it such a Service never
 * gets an address, and Helm's `--wait` (the program's releases) waits for one until its timeout.
 *
 * A stand-in for a cloud's load balancer controller, made by the cluster itself: the address is this machine's bridge,
 * reachable from this machine only.
 */
import type { ControlPlane } from "./controlPlane";

export interface LoadBalancer {
    stop(): Promise<void>;
}

/** Every `everyMs`, gives each LoadBalancer Service without an address the node's. Errors (an API server stopped on
 * purpose) are retried on the next round. */
export function startLoadBalancer(controlPlane: Pick<ControlPlane, "api">, address: string, everyMs = 500): LoadBalancer {
    let running = true;
    const loop = (async () => {
        while (running) {
            try {
                const list = await controlPlane.api("GET", "/api/v1/services");
                for (const svc of (list.body?.items ?? []) as any[]) {
                    if (svc.spec?.type !== "LoadBalancer" || svc.status?.loadBalancer?.ingress?.length) continue;
                    await controlPlane.api("PATCH", `/api/v1/namespaces/${svc.metadata.namespace}/services/${svc.metadata.name}/status`,
                        { status: { loadBalancer: { ingress: [{ ip: address, ipMode: "VIP" }] } } }, "application/merge-patch+json");
                }
            } catch {
                // the API server is away: the next round tries again
            }
            await new Promise((r) => setTimeout(r, everyMs));
        }
    })();
    return {
        async stop() {
            running = false;
            await loop;
        },
    };
}
