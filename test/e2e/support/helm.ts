/**
 * Helm as an operator uses it against the tier's cluster: release history, rollback, and the release records Helm
 * keeps in the cluster (Secrets of type helm.sh/release.v1, whose `release` key is base64 of gzipped JSON).
 */
import { gunzipSync } from "node:zlib";

import { runOk } from "../../../scripts/lib/process";
import type { LocalCluster } from "./cluster";

export interface Revision {
    readonly revision: number;
    readonly status: string;
    readonly description: string;
}

export class Helm {
    constructor(private readonly helm: string, private readonly cluster: LocalCluster, private readonly env: NodeJS.ProcessEnv) {}

    private run(args: readonly string[]): Promise<string> {
        return runOk(this.helm, [...args, "--kubeconfig", this.cluster.kubeconfig, "--kube-context", this.cluster.context],
            { env: this.env, timeoutMs: 300_000 });
    }

    /**
     * `helm install --wait` of a chart from a repository, the way a platform team installs what it runs (not through
     * Pulumi), into a namespace it creates.
     */
    async install(release: string, chart: string, opts: { readonly repo: string; readonly version: string; readonly namespace: string }): Promise<void> {
        await this.run(["install", release, chart, "--repo", opts.repo, "--version", opts.version, "--namespace", opts.namespace,
            "--create-namespace", "--wait", "--timeout", "2m"]);
    }

    /** The release's values, the chart's defaults included (`helm get values --all`). */
    async values(release: string, namespace: string): Promise<Record<string, any>> {
        return JSON.parse(await this.run(["get", "values", release, "--all", "--namespace", namespace, "--output", "json"])) as Record<string, any>;
    }

    async history(release: string, namespace: string): Promise<Revision[]> {
        return JSON.parse(await this.run(["history", release, "--namespace", namespace, "--output", "json"])) as Revision[];
    }

    /** `helm status` as JSON (`info.status`: deployed, pending-upgrade, ...). */
    status(release: string, namespace: string): Promise<string> {
        return this.run(["status", release, "--namespace", namespace, "--output", "json"]);
    }

    async rollback(release: string, namespace: string, revision: number): Promise<void> {
        await this.run(["rollback", release, String(revision), "--namespace", namespace, "--wait", "--timeout", "2m"]);
    }

    /** `name/namespace: status` of every release in the cluster. */
    async releases(): Promise<string[]> {
        const list = JSON.parse(await this.run(["list", "--all-namespaces", "--all", "--output", "json"])) as
            { name: string; namespace: string; status: string }[];
        return list.map((r) => `${r.namespace}/${r.name}: ${r.status}`).sort();
    }

    /** Every release record Helm keeps in the cluster, decoded: the chart, values and manifests of each revision. */
    async records(): Promise<string[]> {
        const list = JSON.parse(await this.cluster.kubectl(["get", "secrets", "--all-namespaces",
            "--field-selector", "type=helm.sh/release.v1", "--output", "json"])) as { items: { data: { release: string } }[] };
        return list.items.map((s) => {
            const once = Buffer.from(s.data.release, "base64").toString();
            return gunzipSync(Buffer.from(once, "base64")).toString();
        });
    }
}
