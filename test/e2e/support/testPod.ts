/**
 * A workload that touches everything a node changes on the machine: a pod (a sandbox, its network on the bridge, a
 * projected service account volume, cgroups) behind a NodePort Service (kube-proxy's rules), using only the node's
 * own sandbox image, which needs no registry.
 */
import { SANDBOX_IMAGE } from "../../../localcluster/sandboxImage";
import { waitFor } from "../../../scripts/lib/process";
import type { LocalCluster } from "./cluster";

export async function runTestPod(cluster: LocalCluster): Promise<void> {
    await cluster.kubectl(["apply", "-f", "-"], JSON.stringify({
        apiVersion: "v1", kind: "List", items: [
            {
                apiVersion: "v1", kind: "Pod",
                metadata: { name: "probe", namespace: "default", labels: { app: "probe" } },
                spec: {
                    containers: [{
                        name: "pause", image: SANDBOX_IMAGE, imagePullPolicy: "Never",
                        securityContext: { runAsNonRoot: true, runAsUser: 65535, allowPrivilegeEscalation: false },
                    }],
                },
            },
            {
                apiVersion: "v1", kind: "Service",
                metadata: { name: "probe", namespace: "default" },
                spec: { type: "NodePort", selector: { app: "probe" }, ports: [{ port: 80, targetPort: 8080 }] },
            },
        ],
    }));
    await waitFor("the test pod to run", async () =>
        (await cluster.kubectl(["get", "pod", "probe", "-o", "jsonpath={.status.phase}"])).trim() === "Running" ? true : undefined, 60_000, 250);
}
